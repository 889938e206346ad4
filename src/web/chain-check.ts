import { entryHash, GENESIS_HASH } from '../ledger/entry-hash.js';
import type { EntryRow } from '../ledger/ledger.js';
import type { LedgerDb } from '../ledger/open-ledger-db.js';

export type ChainCheck =
  | { ok: true; upTo: number }
  | { ok: false; upTo: number; firstBadSeq: number; reason: string };

/**
 * Whether the chain verifies from its first entry up to `upTo`: every entry links to the one before
 * and hashes to what is stored. The entries a page shows are trustworthy only if this holds. It is
 * recomputed from the first entry on every view: a remembered prefix would miss an entry edited
 * inside it with its stored hash left alone.
 */
export class ChainChecker {
  constructor(private readonly db: LedgerDb) {}

  check(upTo: number): ChainCheck {
    const start = { seq: 0, hash: GENESIS_HASH };
    let expected = start.seq + 1;
    let prevHash = start.hash;
    const rows = this.db
      .prepare<[number, number], EntryRow>(
        'SELECT * FROM ledger_entries WHERE seq > ? AND seq <= ? ORDER BY seq',
      )
      .iterate(start.seq, upTo);
    for (const row of rows) {
      const fail = (reason: string, seq = row.seq): ChainCheck => ({
        ok: false,
        upTo,
        firstBadSeq: seq,
        reason,
      });
      if (row.seq !== expected) return fail(`entry ${expected} is missing`, expected);
      if (row.prev_hash !== prevHash) return fail(`entry ${row.seq} does not link to entry ${row.seq - 1}`);
      const computed = entryHash({
        seq: row.seq,
        ts: row.ts,
        type: row.type,
        agentId: row.agent_id,
        actor: row.actor,
        payload: row.payload,
        prevHash: row.prev_hash,
      });
      if (computed !== row.hash) return fail(`entry ${row.seq} was changed after it was written`);
      prevHash = row.hash;
      expected++;
    }
    if (expected - 1 < upTo)
      return { ok: false, upTo, firstBadSeq: expected, reason: `entry ${expected} is missing` };
    return { ok: true, upTo };
  }
}
