import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { Command } from 'commander';
import { parseSeq, privateFile } from './files.js';
import { withDatabaseOption, withLedgerCommandSource } from './ledger-source.js';

/** `agov ledger export`: the ledger as JSON Lines, to stdout or a private file. */
export function registerLedgerExport(ledger: Command): void {
  withDatabaseOption(ledger.command('export'))
    .description('write the ledger as JSON Lines, one entry per line')
    .option('--out <file>', 'write to a file instead of stdout')
    .option('--after <seq>', 'only entries after this sequence number', parseSeq, 0)
    .action(async (opts: { out?: string; after: number }, command: Command) => {
      await withLedgerCommandSource(command, async (reader) => {
        const out: Writable = opts.out ? privateFile(opts.out) : process.stdout;
        let n = 0;
        for await (const entry of reader.entries(opts.after)) {
          if (!out.write(`${JSON.stringify(entry)}\n`)) await once(out, 'drain');
          n++;
        }
        if (opts.out) {
          out.end();
          await finished(out);
          console.error(`exported ${n} entries to ${opts.out}`);
        }
      });
    });
}
