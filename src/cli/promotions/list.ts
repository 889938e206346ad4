import type { Command } from 'commander';
import { promotionsAsync } from '../../ledger/queries/promotions.js';
import { describe, machines } from '../admin-machines.js';
import { withRuntime } from '../context.js';

/** `agov promotions list`: every promotion request, newest first. */
export function registerPromotionsList(promotions: Command): void {
  promotions
    .command('list')
    .description('every promotion request, newest first')
    .option('--agent <id>', 'only this agent')
    .action(async (opts: { agent?: string }, command: Command) => {
      await withRuntime(command, { ledgerMustExist: true, stateStore: 'memory' }, async (rt) => {
        const ids = await promotionsAsync.requestedPromotionIds(rt.store.reader, opts.agent);
        const { promotions: machine } = machines(rt);
        if (ids.length === 0) return console.log('no promotion requests');
        for (const id of ids) console.log(describe((await machine.statusOf(id))!));
      });
    });
}
