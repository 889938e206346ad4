import type { Command } from 'commander';

/** `agov demo`: the scripted tour; exit 1 when the ledger does not verify at its end. */
export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description(
      'a scripted tour: the real service with GitHub and Slack played on loopback, from registration to revocation',
    )
    .action(async () => {
      const { runDemo } = await import('../demo/run-demo.js');
      if (!(await runDemo())) process.exitCode = 1;
    });
}
