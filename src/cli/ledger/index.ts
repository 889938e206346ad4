import type { Command } from 'commander';
import { registerLedgerExport } from './export.js';
import { registerLedgerHead } from './head.js';
import { registerLedgerStats } from './stats.js';
import { registerLedgerTail } from './tail.js';
import { registerLedgerVerify } from './verify.js';

/** `agov ledger …`: verify, export and follow the hash-chained ledger. */
export function registerLedgerCommands(program: Command): void {
  const ledger = program.command('ledger').description('verify, export and follow the hash-chained ledger');
  registerLedgerVerify(ledger);
  registerLedgerExport(ledger);
  registerLedgerTail(ledger);
  registerLedgerStats(ledger);
  registerLedgerHead(ledger);
}
