import type { Command } from 'commander';
import { describe, machines } from '../admin-machines.js';
import { withRuntime } from '../context.js';

/** `agov promotions approve|reject <promotionId>`: a vote as an approver or council member. */
export function registerPromotionsVote(promotions: Command, verdict: 'approve' | 'reject'): void {
  promotions
    .command(`${verdict} <promotionId>`)
    .description(`${verdict} a pending request as an approver (or council member)`)
    .requiredOption('--as <login>', 'your GitHub login, as in the organisation config')
    .option('--reason <text>', 'why', '')
    .action(async (id: string, opts: { as: string; reason: string }, command: Command) => {
      await withRuntime(command, { ledgerMustExist: true, stateStore: 'env' }, async (rt) => {
        await rt.governance.restoreState();
        console.log(describe(await machines(rt).promotions.vote(id, opts.as, verdict, opts.reason)));
      });
    });
}
