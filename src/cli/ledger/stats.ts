import type { Command } from 'commander';
import { table } from '../output.js';
import { withDatabaseOption, withLedgerCommandSource } from './ledger-source.js';

/** `agov ledger stats`: entries by type, agents, violations, outbox and checkpoints. */
export function registerLedgerStats(ledger: Command): void {
  withDatabaseOption(ledger.command('stats'))
    .description('entries by type, agents, violations, outbox and checkpoints')
    .action(async (_opts: unknown, command: Command) => {
      await withLedgerCommandSource(command, async (reader) => {
        const head = await reader.head();
        const stats = await reader.stats();
        console.log(`entries: ${head.seq}  head: ${head.hash}`);
        console.log(`agents: ${stats.agents}`);
        console.log(`violations: ${stats.violations}`);
        console.log(`outbox pending: ${stats.outboxPending}`);
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
