import { hash } from 'node:crypto';
import { entryHashOf, GENESIS_HASH } from './entry-hash.js';
import type { LedgerDb } from './open-ledger-db.js';

/**
 * Each entry's hash input, built by SQLite: `json_array` encodes the stored values as
 * `JSON.stringify` does, and a JSON text decodes one way only, so a match proves the values are
 * the ones hashed; a mismatch is recomputed in JS (`entryHashOf`) before it is called tampering.
 */
export const HASH_INPUT = 'json_array(seq, ts, type, agent_id, actor, payload, prev_hash)';

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

  next(seq: number, input: string, prev: string, stored: string): ChainProblem | null {
    if (seq !== this.expectedSeq) {
      return {
        seq: this.expectedSeq,
        reason: `entry ${this.expectedSeq} is missing (the next stored entry is ${seq})`,
      };
    }
    if (prev !== this.prevHash) {
      return {
        seq,
        reason: `entry ${seq} does not link to entry ${seq - 1} (rows removed, reordered or replaced)`,
      };
    }
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

/**
 * Checks entries from..upTo on `db` alone (a worker's own connection), a batch at a time. A range
 * that does not start at 1 links its first entry to the stored hash of the entry before it: the
 * range holding that entry proves the hash right, so ranges checked apart check the whole chain.
 */
export function checkChain(
  db: LedgerDb,
  upTo: number,
  from = 1,
): { problem: ChainProblem | null; checked: number; head: string } {
  const chain = new ChainCheck(db);
  if (from > 1) {
    chain.expectedSeq = from;
    chain.prevHash =
      (db
        .prepare<[number], string>('SELECT hash FROM ledger_entries WHERE seq = ?')
        .pluck()
        .get(from - 1) as string | undefined) ?? '';
  }
  const select = db
    .prepare<[number, number], [number, string, string, string]>(
      `SELECT seq, ${HASH_INPUT}, prev_hash, hash FROM ledger_entries WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT 8192`,
    )
    .raw();
  for (
    let batch = select.all(from - 1, upTo);
    batch.length > 0;
    batch = select.all(chain.expectedSeq - 1, upTo)
  ) {
    for (const [seq, input, prev, stored] of batch) {
      const problem = chain.next(seq, input, prev, stored);
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
