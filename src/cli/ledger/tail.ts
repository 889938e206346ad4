import type { Command } from 'commander';
import { withRuntime } from '../context.js';
import { parseSeq } from './files.js';

/** `agov ledger tail`: the newest entries, then new ones as they are appended, until SIGINT/SIGTERM. */
export function registerLedgerTail(ledger: Command): void {
  ledger
    .command('tail')
    .description('print the newest entries and follow new ones as they are appended')
    .option('-n, --lines <n>', 'how many of the newest entries to print first', parseSeq, 10)
    .option('--no-follow', 'print and exit')
    .option('--interval <ms>', 'how often to look for new entries', parseSeq, 500)
    .action(async (opts: { lines: number; follow: boolean; interval: number }, command: Command) => {
      await withRuntime(command, { ledgerMustExist: true, stateStore: 'memory' }, async (rt) => {
        let after = Math.max(0, rt.ledger.head().seq - opts.lines);
        const printNew = () => {
          for (const entry of rt.ledger.entriesAfter(after, 1000)) {
            console.log(JSON.stringify(entry));
            after = entry.seq;
          }
        };
        printNew();
        if (!opts.follow) return;
        await new Promise<void>((resolve) => {
          const timer = setInterval(printNew, opts.interval);
          const stop = () => {
            clearInterval(timer);
            resolve();
          };
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
      });
    });
}
