import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { Command } from 'commander';
import { iterateEntries } from '../../ledger/iterate-entries.js';
import { withRuntime } from '../context.js';
import { parseSeq, privateFile } from './files.js';

/** `agov ledger export`: the ledger as JSON Lines, to stdout or a private file. */
export function registerLedgerExport(ledger: Command): void {
  ledger
    .command('export')
    .description('write the ledger as JSON Lines, one entry per line')
    .option('--out <file>', 'write to a file instead of stdout')
    .option('--after <seq>', 'only entries after this sequence number', parseSeq, 0)
    .action(async (opts: { out?: string; after: number }, command: Command) => {
      await withRuntime(command, { ledgerMustExist: true, stateStore: 'memory' }, async (rt) => {
        const out: Writable = opts.out ? privateFile(opts.out) : process.stdout;
        let n = 0;
        for (const entry of iterateEntries(rt.ledger, opts.after)) {
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
