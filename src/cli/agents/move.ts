import type { Command } from 'commander';
import type { MoveKind } from '../../governance/promotion-status.js';
import { actorOption, describe, machines } from '../admin-machines.js';
import { withRuntime } from '../context.js';

interface MoveOptions {
  to?: string;
  reason?: string;
  force?: boolean;
  actor: string;
}

/** `agov agents promote|demote|reinstate <id>`: asks for a move of one tier (or back to active). */
function registerMove(agents: Command, name: string, kind: MoveKind, description: string): void {
  agents
    .command(`${name} <id>`)
    .description(description)
    .option('--to <tier>', 'the tier to move to (one step)')
    .option('--reason <text>', 'why, for the ledger')
    .option('--force', 'skip the eligibility check (still needs the approvals)')
    .option(...actorOption)
    .action(async (id: string, opts: MoveOptions, command: Command) => {
      await withRuntime(command, { ledgerMustExist: true, stateStore: 'env' }, async (rt) => {
        await rt.governance.restoreState();
        const status = await machines(rt).promotions.request(id, opts.actor, { kind, ...opts });
        console.log(describe(status));
      });
    });
}

export function registerAgentsMoves(agents: Command): void {
  registerMove(
    agents,
    'promote',
    'promotion',
    'ask to promote an agent one tier; applies when the approvals the tier needs are in',
  );
  registerMove(agents, 'demote', 'demotion', 'demote an agent one tier, at once');
  registerMove(
    agents,
    'reinstate',
    'reinstatement',
    'ask to reinstate a revoked or suspended agent; applies when approved',
  );
}
