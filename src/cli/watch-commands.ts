import type { Command } from 'commander';
import { describeSuggestion } from '../core/suggestions.js';
import { UserError } from '../platform/errors.js';
import { Watcher } from '../watchers/watcher.js';
import { withRuntime } from './context.js';
import { table } from './output.js';

export function registerWatchCommands(program: Command): void {
  program
    .command('suggest')
    .description(
      'what the record suggests: promotions, demotions, rules to relax or that never fire, approver bottlenecks',
    )
    .action(async (_opts: unknown, command: Command) => {
      await withRuntime(command, { ledgerMustExist: true, stateStore: 'memory' }, (rt) => {
        const list = new Watcher(rt.governance).suggestions();
        if (list.length === 0) return console.log('no suggestions');
        for (const s of list) console.log(`- ${describeSuggestion(s)}`);
        const promote = list.find((s) => s.kind === 'promote');
        if (promote && promote.kind === 'promote')
          console.log(`\nto ask: agov agents promote ${promote.agentId}`);
      });
    });

  program
    .command('watch')
    .description('run the bug watcher once: record new findings and resolve cleared ones')
    .action(async (_opts: unknown, command: Command) => {
      await withRuntime(command, { ledgerMustExist: true, stateStore: 'memory' }, (rt) => {
        const watcher = new Watcher(rt.governance);
        const raised = watcher.run();
        for (const f of raised) console.log(`new: ${f.summary}`);
        console.log(`${watcher.openFindings().length} finding(s) open`);
      });
    });
}

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

export function registerChaosCommand(program: Command): void {
  program
    .command('chaos')
    .description(
      'simulated agents and approvers against the real service while Redis, GitHub, Slack and the service itself fail; checks invariants',
    )
    .option('--agents <n>', 'simulated agents', (v) => Number.parseInt(v, 10), 8)
    .option('--duration <seconds>', 'how long the agents work', (v) => Number(v), 20)
    .option(
      '--seed <k>',
      'the seed the run is drawn from (same seed, same schedule)',
      (v) => Number.parseInt(v, 10),
      1,
    )
    .option(
      '--faults <list>',
      `comma-separated: ${['redis', 'github', 'slack', 'vault', 'service'].join(',')}`,
      'redis,github,slack,vault,service',
    )
    .option('--defect <name>', 'run a deliberately broken build (no-fencing) to see the run catch it')
    .action(
      async (opts: { agents: number; duration: number; seed: number; faults: string; defect?: string }) => {
        const { CHAOS_FAULTS } = await import('../chaos/chaos-options.js');
        const { runChaos } = await import('../chaos/run-chaos.js');
        const faults = opts.faults
          .split(',')
          .map((f) => f.trim())
          .filter(Boolean);
        const unknown = faults.filter((f) => !(CHAOS_FAULTS as readonly string[]).includes(f));
        if (unknown.length)
          throw new UserError(
            'usage',
            `unknown fault(s) ${unknown.join(', ')}; choose from ${CHAOS_FAULTS.join(', ')}`,
          );
        if (
          !Number.isInteger(opts.agents) ||
          opts.agents < 1 ||
          !(opts.duration > 0) ||
          !Number.isInteger(opts.seed)
        ) {
          throw new UserError(
            'usage',
            '--agents and --seed are whole numbers, --duration a positive number of seconds',
          );
        }
        if (opts.defect && opts.defect !== 'no-fencing')
          throw new UserError('usage', 'the only defect is no-fencing');
        const report = await runChaos({
          agents: opts.agents,
          durationMs: opts.duration * 1000,
          seed: opts.seed,
          faults: faults as never,
          ...(opts.defect ? { defect: 'no-fencing' as const } : {}),
          print: (line) => console.log(line),
        });
        console.log(
          `\nactivity: ${Object.entries(report.stats)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')}\n`,
        );
        console.log(
          table(
            ['invariant', 'holds', 'count', 'detail'],
            report.invariants.map((i) => [i.name, i.ok ? 'yes' : 'NO', String(i.count), i.detail]),
          ),
        );
        if (!report.ok) process.exitCode = 1;
      },
    );
}
