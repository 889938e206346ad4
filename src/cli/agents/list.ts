import type { Command } from 'commander';
import { tierLabel } from '../../core/tiers.js';
import { withRuntime } from '../context.js';
import { table } from '../output.js';

/** `agov agents list`: every registered agent with its tier and status. */
export function registerAgentsList(agents: Command): void {
  agents
    .command('list')
    .description('every registered agent with its tier and status')
    .action(async (_opts: unknown, command: Command) => {
      await withRuntime(command, { ledgerMustExist: true, stateStore: 'memory' }, async (rt) => {
        const list = Object.values((await rt.governance.checkpoints.stateAtHead()).state.agents).sort(
          (a, b) => a.id.localeCompare(b.id),
        );
        if (list.length === 0)
          return console.log('no agents registered; add one with `agov agents add <id> --tier T1`');
        console.log(
          table(
            ['id', 'tier', 'status', 'owner', 'since'],
            list.map((a) => [a.id, tierLabel(a.tier), a.status, a.owner ?? '-', a.tierSince]),
          ),
        );
      });
    });
}
