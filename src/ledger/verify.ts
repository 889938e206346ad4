import type { LedgerEntry } from '../core/ledger-entries.js';
import { entryHash, GENESIS_HASH } from './entry-hash.js';
import type { EntryRow } from './ledger.js';
import type { LedgerDb } from './open-ledger-db.js';

/** A head someone trusts: from the newest checkpoint, or a signed head kept off the host. */
export interface TrustedHead {
  seq: number;
  hash: string;
  /** Where the head came from, for the report. */
  source: string;
}

export type VerifyResult =
  | { ok: true; checked: number; head: { seq: number; hash: string }; notes: string[] }
  | { ok: false; checked: number; firstBadSeq: number; reason: string; notes: string[] };

/**
 * Recomputes the chain from the first entry and compares its end with trusted heads. Reports the
 * first sequence number where the stored history stops being the history that was written: an
 * edited row, a missing row, rows out of order, or a tail cut off after a trusted head.
 */
export function verifyLedger(db: LedgerDb, trustedHeads: readonly TrustedHead[] = []): VerifyResult {
  const notes: string[] = [];
  const triggers = db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'ledger_entries'")
    .all() as { name: string }[];
  if (triggers.length < 3) {
    notes.push('warning: the append-only triggers of ledger_entries are missing; someone dropped them');
  }

  let expectedSeq = 1;
  let prevHash = GENESIS_HASH;
  const rows = db.prepare<[], EntryRow>('SELECT * FROM ledger_entries ORDER BY seq').iterate();
  for (const row of rows) {
    const fail = (reason: string, seq = row.seq): VerifyResult => ({
      ok: false,
      checked: expectedSeq - 1,
      firstBadSeq: seq,
      reason,
      notes,
    });
    if (row.seq !== expectedSeq) {
      return fail(`entry ${expectedSeq} is missing (the next stored entry is ${row.seq})`, expectedSeq);
    }
    if (row.prev_hash !== prevHash) {
      return fail(
        `entry ${row.seq} does not link to entry ${row.seq - 1} (rows removed, reordered or replaced)`,
      );
    }
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
    expectedSeq++;
  }
  const lastSeq = expectedSeq - 1;
  const hashAt = db.prepare<[number], { hash: string }>('SELECT hash FROM ledger_entries WHERE seq = ?');

  if (trustedHeads.length === 0)
    notes.push('no trusted head to compare the tail against (no checkpoint yet)');
  for (const head of trustedHeads) {
    if (head.seq > lastSeq) {
      return {
        ok: false,
        checked: lastSeq,
        firstBadSeq: lastSeq + 1,
        reason: `the ledger ends at ${lastSeq} but ${head.source} recorded head ${head.seq}: the tail was cut off`,
        notes,
      };
    }
    if (head.seq > 0 && hashAt.get(head.seq)?.hash !== head.hash) {
      return {
        ok: false,
        checked: lastSeq,
        firstBadSeq: head.seq,
        reason: `entry ${head.seq} does not match the hash that ${head.source} recorded: history was rewritten`,
        notes,
      };
    }
  }
  return { ok: true, checked: lastSeq, head: { seq: lastSeq, hash: prevHash }, notes };
}

/** Entries as plain objects in chain order, for export. */
export function* iterateEntries(db: LedgerDb, afterSeq = 0): Generator<LedgerEntry> {
  const rows = db
    .prepare<[number], EntryRow>('SELECT * FROM ledger_entries WHERE seq > ? ORDER BY seq')
    .iterate(afterSeq);
  for (const row of rows) {
    yield {
      seq: row.seq,
      ts: row.ts,
      type: row.type,
      agentId: row.agent_id,
      actor: row.actor,
      payload: JSON.parse(row.payload),
      prevHash: row.prev_hash,
      hash: row.hash,
    } as LedgerEntry;
  }
}
