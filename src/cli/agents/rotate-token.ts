import type { Command } from 'commander';
import { withRuntime } from '../context.js';

/** `agov agents rotate-token <id>`: a new API token, printed once; the old one stops working. */
export function registerAgentsRotateToken(agents: Command): void {
  agents
    .command('rotate-token <id>')
    .description("replace an agent's API token; the old one stops working")
    .option('--actor <who>', 'who is rotating it, for the ledger', process.env.USER ?? 'cli')
    .action(async (id: string, opts: { actor: string }, command: Command) => {
      await withRuntime(command, { ledgerMustExist: true, stateStore: 'memory' }, async (rt) => {
        await rt.governance.restoreState();
        const token = await rt.governance.rotateToken(id, opts.actor);
        console.log(`token (shown once): ${token}`);
      });
    });
}
