import type { ChainProblem } from './chain-check.js';
import { entryHash, GENESIS_HASH, type HashedFields } from './entry-hash.js';
import type { EntryRow } from './ledger.js';
import type { PgEntryRow } from './postgres/pg-chain-check.js';

/** An entry's stored columns with its stored hash. */
export interface StoredEntry extends HashedFields {
  hash: string;
}

/**
 * Walks a chain given entry by entry in sequence order, in JS (for an engine whose rows arrive as
 * values, such as PostgreSQL): no entry missing, each linked to the one before, each hashing to its
 * stored hash with `entryHash`, the one hash of every engine. Reports as the SQLite check does.
 */
export class ChainWalk {
  expectedSeq: number;
  prevHash: string;

  /** From the first entry, or from just after `after` (an entry already verified: its seq and hash). */
  constructor(after: { seq: number; hash: string } = { seq: 0, hash: GENESIS_HASH }) {
    this.expectedSeq = after.seq + 1;
    this.prevHash = after.hash;
  }

  next(entry: StoredEntry): ChainProblem | null {
    const seq = this.expectedSeq;
    if (entry.seq !== seq) {
      return { seq, reason: `entry ${seq} is missing (the next stored entry is ${entry.seq})` };
    }
    if (entry.prevHash !== this.prevHash) {
      return {
        seq,
        reason: `entry ${seq} does not link to entry ${seq - 1} (rows removed, reordered or replaced)`,
      };
    }
    if (entryHash(entry) !== entry.hash)
      return { seq, reason: `entry ${seq} was changed after it was written` };
    this.prevHash = entry.hash;
    this.expectedSeq++;
    return null;
  }

  /** How many entries passed. */
  get checked(): number {
    return this.expectedSeq - 1;
  }
}

/** A stored row of either engine (PostgreSQL gives `seq`, a bigint, as text) as the chain walk reads it. */
export function storedEntry(row: EntryRow | PgEntryRow): StoredEntry {
  return {
    seq: Number(row.seq),
    ts: row.ts,
    type: row.type,
    agentId: row.agent_id,
    actor: row.actor,
    payload: row.payload,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}
