import { UserError } from '../platform/errors.js';
import { dbOf, type LedgerSource } from './ledger.js';

/** The checkpoint signing key a ledger pinned, and the entry that pinned it. */
export interface PinnedKey {
  seq: number;
  publicKey: string;
}

/**
 * The first `ledger.key_pinned` entry of the chain (sequence 1 on: a row below it is no entry,
 * and verify reports it). Only the first counts: verify reports any later one as tampering. A
 * scan of the rows themselves, never an index of the file; callers cache the answer.
 */
export function findPinnedKey(store: LedgerSource): PinnedKey | null {
  const db = dbOf(store);
  const row = db
    .prepare<[], { seq: number; payload: string }>(
      "SELECT seq, payload FROM ledger_entries NOT INDEXED WHERE type = 'ledger.key_pinned' AND seq >= 1 ORDER BY seq LIMIT 1",
    )
    .get();
  return row ? pinnedKeyOf(row) : null;
}

/** The key a `ledger.key_pinned` entry pins, from its stored row; a row that pins no key text is refused. */
export function pinnedKeyOf(row: { seq: number; payload: unknown }): PinnedKey {
  let publicKey: unknown;
  try {
    publicKey = (JSON.parse(String(row.payload)) as { publicKey?: unknown } | null)?.publicKey;
  } catch {}
  if (typeof publicKey !== 'string')
    throw new UserError(
      'pinned_key_malformed',
      `entry ${row.seq} pins no readable key: the ledger was tampered with; run \`agov ledger verify\``,
    );
  return { seq: row.seq, publicKey };
}
