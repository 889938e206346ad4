import type { Command } from 'commander';
import { parseSeq } from './files.js';
import { withDatabaseOption, withLedgerCommandSource } from './ledger-source.js';

/** `agov ledger tail`: the newest entries, then new ones as they are appended, until SIGINT/SIGTERM. */
export function registerLedgerTail(ledger: Command): void {
  withDatabaseOption(ledger.command('tail'))
    .description('print the newest entries and follow new ones as they are appended')
    .option('-n, --lines <n>', 'how many of the newest entries to print first', parseSeq, 10)
    .option('--no-follow', 'print and exit')
    .option('--interval <ms>', 'how often to look for new entries', parseSeq, 500)
    .action(async (opts: { lines: number; follow: boolean; interval: number }, command: Command) => {
      await withLedgerCommandSource(command, async (reader) => {
        let after = Math.max(0, (await reader.head()).seq - opts.lines);
        const printNew = async () => {
          for (const entry of await reader.entriesAfter(after, 1000)) {
            console.log(JSON.stringify(entry));
            after = entry.seq;
          }
        };
        await printNew();
        if (!opts.follow) return;
        await new Promise<void>((resolve, reject) => {
          let timer: NodeJS.Timeout | undefined;
          let stopped = false;
          // One look at a time: the next is planned when this one is done.
          const look = () => {
            if (!stopped) timer = setTimeout(() => printNew().then(look, fail), opts.interval);
          };
          const stop = () => {
            stopped = true;
            clearTimeout(timer);
            resolve();
          };
          const fail = (error: unknown) => {
            process.off('SIGINT', stop);
            process.off('SIGTERM', stop);
            reject(error);
          };
          look();
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
      });
    });
}
