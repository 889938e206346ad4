import { dbOf, type LedgerSource } from './ledger.js';

/** The checkpoint signing key a ledger pinned, and the entry that pinned it. */
export interface PinnedKey {
  seq: number;
  publicKey: string;
}

/**
 * The first `ledger.key_pinned` entry. Only the first counts: verify reports any later one as
 * tampering. A scan of the chain; callers cache the answer.
 */
export function findPinnedKey(store: LedgerSource): PinnedKey | null {
  const db = dbOf(store);
  const row = db
    .prepare<[], { seq: number; payload: string }>(
      "SELECT seq, payload FROM ledger_entries WHERE type = 'ledger.key_pinned' ORDER BY seq LIMIT 1",
    )
    .get();
  return row ? pinnedKeyOf(row) : null;
}

/** The key a `ledger.key_pinned` entry pins, from its stored row. */
export function pinnedKeyOf(row: { seq: number; payload: string }): PinnedKey {
  return { seq: row.seq, publicKey: (JSON.parse(row.payload) as { publicKey: string }).publicKey };
}
