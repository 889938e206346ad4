import type { Command } from 'commander';
import { registerLedgerCopy } from './copy.js';
import { registerLedgerExport } from './export.js';
import { registerLedgerHead } from './head.js';
import { registerLedgerStats } from './stats.js';
import { registerLedgerTail } from './tail.js';
import { registerLedgerVerify } from './verify.js';

/** `agov ledger …`: verify, export, follow and copy the hash-chained ledger. */
export function registerLedgerCommands(program: Command): void {
  const ledger = program
    .command('ledger')
    .description('verify, export, follow and copy the hash-chained ledger');
  registerLedgerVerify(ledger);
  registerLedgerExport(ledger);
  registerLedgerTail(ledger);
  registerLedgerStats(ledger);
  registerLedgerHead(ledger);
  registerLedgerCopy(ledger);
}
