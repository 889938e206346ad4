import { hash } from 'node:crypto';
import { entryHashOf, GENESIS_HASH } from './entry-hash.js';
import { dbOf, type LedgerSource } from './ledger.js';
import type { LedgerDb } from './open-ledger-db.js';

/**
 * Each entry's hash input, built by SQLite: `json_array` encodes the stored values as
 * `JSON.stringify` does, and a JSON text decodes one way only, so a match proves the values are
 * the ones hashed; a mismatch is recomputed in JS (`entryHashOf`) before it is called tampering.
 */
export const HASH_INPUT = 'json_array(seq, ts, type, agent_id, actor, payload, prev_hash)';

/**
 * One text per entry: its hash input followed by its stored hash (one value crosses into JS, not
 * four: most of the time of a check is spent moving values). A stored hash that is not 64
 * characters long gives the entry's sequence number alone, to be reported as changed.
 */
const CHAIN_ROW = `CASE WHEN length(hash) = 64 THEN ${HASH_INPUT} || hash ELSE seq END`;

/** How much of the ledger file verify maps into memory (SQLite caps it at its own maximum). */
export const VERIFY_MMAP_BYTES = 1 << 30;

/** The first entry where the stored chain stops being the chain written. */
export interface ChainProblem {
  seq: number;
  reason: string;
}

/**
 * Walks the chain in order: no entry missing, each linked to the one before, each hashing to its
 * stored hash. `next` is called once per entry, in sequence order.
 */
export class ChainCheck {
  expectedSeq = 1;
  prevHash = GENESIS_HASH;
  private readonly fields;

  constructor(db: LedgerDb) {
    this.fields = db
      .prepare<[number], [number, string, string, string | null, string, string, string]>(
        'SELECT seq, ts, type, agent_id, actor, payload, prev_hash FROM ledger_entries WHERE seq = ?',
      )
      .raw();
  }

  /**
   * `row`: a CHAIN_ROW. The input starts `[seq,` and ends with the JSON string of `prev_hash`; a
   * JSON string never holds an unescaped `"`, so an input ending `,"<previous hash>"]` is one
   * whose `prev_hash` is exactly the previous hash.
   */
  next(row: string | number): ChainProblem | null {
    const seq = typeof row === 'number' ? row : Number(row.slice(1, row.indexOf(',')));
    if (seq !== this.expectedSeq) {
      return {
        seq: this.expectedSeq,
        reason: `entry ${this.expectedSeq} is missing (the next stored entry is ${seq})`,
      };
    }
    if (typeof row === 'number') return { seq, reason: `entry ${seq} was changed after it was written` };
    const end = row.length - 64;
    const input = row.slice(0, end);
    if (!input.endsWith(`,"${this.prevHash}"]`)) {
      return {
        seq,
        reason: `entry ${seq} does not link to entry ${seq - 1} (rows removed, reordered or replaced)`,
      };
    }
    const stored = row.slice(end);
    if (hash('sha256', input) !== stored && this.recompute(seq) !== stored)
      return { seq, reason: `entry ${seq} was changed after it was written` };
    this.prevHash = stored;
    this.expectedSeq++;
    return null;
  }

  private recompute(seq: number): string {
    const row = this.fields.get(seq);
    return row ? entryHashOf(...row) : '';
  }
}

/** Rows per batch of `checkChain`. */
const BATCH = 8192;

/**
 * Checks entries from..upTo on `db` alone (a worker's own connection), a batch at a time. A range
 * that does not start at 1 links its first entry to the stored hash of the entry before it: the
 * range holding that entry proves the hash right, so ranges checked apart check the whole chain.
 */
export function checkChain(
  store: LedgerSource,
  upTo: number,
  from = 1,
): { problem: ChainProblem | null; checked: number; head: string } {
  const db = dbOf(store);
  const chain = new ChainCheck(db);
  if (from > 1) {
    chain.expectedSeq = from;
    // A missing entry before the range is reported by the range that holds it.
    chain.prevHash =
      (db
        .prepare<[number], string>('SELECT hash FROM ledger_entries WHERE seq = ?')
        .pluck()
        .get(from - 1) as string | undefined) ?? 'missing';
  }
  const select = db
    .prepare<[number, number], string | number>(
      `SELECT ${CHAIN_ROW} FROM ledger_entries WHERE seq > ? AND seq <= ? ORDER BY seq`,
    )
    .pluck();
  for (let after = from - 1; after < upTo; after += BATCH) {
    for (const row of select.all(after, Math.min(upTo, after + BATCH))) {
      const problem = chain.next(row);
      if (problem) return { problem, checked: chain.expectedSeq - 1, head: chain.prevHash };
    }
  }
  if (chain.expectedSeq - 1 < upTo) {
    const seq = chain.expectedSeq;
    return {
      problem: { seq, reason: `entry ${seq} is missing (the chain ends at ${seq - 1})` },
      checked: seq - 1,
      head: chain.prevHash,
    };
  }
  return { problem: null, checked: upTo, head: chain.prevHash };
}
