import type { Command } from 'commander';
import { ledgerStats } from '../../ledger/queries/admin.js';
import { withRuntime } from '../context.js';
import { table } from '../output.js';

/** `agov ledger stats`: entries by type, agents, violations, outbox and checkpoints. */
export function registerLedgerStats(ledger: Command): void {
  ledger
    .command('stats')
    .description('entries by type, agents, violations, outbox and checkpoints')
    .action(async (_opts: unknown, command: Command) => {
      await withRuntime(command, { ledgerMustExist: true, stateStore: 'memory' }, (rt) => {
        const head = rt.ledger.head();
        const stats = ledgerStats(rt.ledger);
        console.log(`entries: ${head.seq}  head: ${head.hash}`);
        console.log(`agents: ${stats.agents}`);
        console.log(`violations: ${stats.violations}`);
        console.log(`outbox pending: ${rt.ledger.outbox.pendingCount()}`);
        console.log(`checkpoints: ${stats.checkpoints}`);
        if (stats.entriesByType.length)
          console.log(
            `\n${table(
              ['type', 'entries'],
              stats.entriesByType.map((r) => [r.type, String(r.count)]),
            )}`,
          );
      });
    });
}
