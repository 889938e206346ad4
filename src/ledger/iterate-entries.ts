import type { LedgerEntry } from '../core/ledger-entries.js';
import { dbOf, type EntryRow, type LedgerSource, rowToEntry } from './ledger.js';

/** Entries as plain objects in chain order, for export. */
export function* iterateEntries(store: LedgerSource, afterSeq = 0): Generator<LedgerEntry> {
  const db = dbOf(store);
  const rows = db
    .prepare<[number], EntryRow>('SELECT * FROM ledger_entries NOT INDEXED WHERE seq > ? ORDER BY seq')
    .iterate(afterSeq);
  for (const row of rows) yield rowToEntry(row);
}
