import { dbOf, type LedgerSource } from './ledger.js';
import { sqliteStatement } from './ledger-reader.js';

/**
 * A follower's stored position on SQLite, read from the database alone (0 before its first run).
 * Followers step on either engine through `followerStep` (src/ledger/follower-step.ts).
 */
export function followerPosition(store: LedgerSource, name: string): number {
  const db = dbOf(store);
  const row = sqliteStatement(db, 'SELECT seq FROM follower_positions WHERE name = ?').get(name) as
    | { seq: number }
    | undefined;
  return row?.seq ?? 0;
}
