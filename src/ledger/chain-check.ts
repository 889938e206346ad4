import { hash } from 'node:crypto';
import { entryHashOf, GENESIS_HASH } from './entry-hash.js';
import type { LedgerDb } from './open-ledger-db.js';

/*
 * Imported by the chain-check worker: keep its imports to node:crypto and entry-hash (a worker
 * that loads the ledger's modules spends more time starting than checking).
 */

/**
 * Each entry's hash input, built by SQLite: `json_array` encodes the stored values as
 * `JSON.stringify` does, and a JSON text decodes one way only, so a match proves the values are
 * the ones hashed; a mismatch is recomputed in JS (`entryHashOf`) before it is called tampering.
 */
export const HASH_INPUT = 'json_array(seq, ts, type, agent_id, actor, payload, prev_hash)';

/**
 * One line per entry: its hash input followed by its stored hash. JSON text never holds a raw
 * newline, so lines split one way only; a stored hash that is not 64 characters long or holds a
 * newline gives the entry's sequence number alone, to be reported as changed.
 */
const CHAIN_LINE = `CASE WHEN length(hash) = 64 AND instr(hash, char(10)) = 0 THEN ${HASH_INPUT} || hash ELSE seq END`;

/**
 * The lines of entries from..to as one text: one value crosses into JS per chunk, not one per
 * entry (moving values out of SQLite costs more than building them). The lines come in the order
 * of the scan by rowid, ascending seq (an ORDER BY inside the aggregate would sort them again);
 * lines out of order would be reported as missing entries, never pass. The same pass over the
 * rows themselves counts the entries of the types verify replays (`ChainTypes.replayed`), which
 * verify finds through an index, and finds the first entry of a type this build does not know.
 */
const CHAIN_CHUNK_QUERY = `SELECT group_concat(${CHAIN_LINE}, char(10)),
    count(*) FILTER (WHERE type IN (SELECT value FROM json_each(@replayed))),
    min(seq) FILTER (WHERE type NOT IN (SELECT value FROM json_each(@known)))
  FROM ledger_entries WHERE seq >= @from AND seq <= @to`;

/** The entry types verify replays, and every type this build knows, as JSON arrays. */
export interface ChainTypes {
  replayed: string;
  known: string;
}

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
  private fields: ((seq: number) => string) | null = null;

  constructor(private readonly db: LedgerDb) {}

  /**
   * `line`: a CHAIN_LINE. The input starts `[seq,` and ends with the JSON string of `prev_hash`; a
   * JSON string never holds an unescaped `"`, so an input ending `,"<previous hash>"]` is one
   * whose `prev_hash` is exactly the previous hash.
   */
  next(line: string): ChainProblem | null {
    const isInput = line.charCodeAt(0) === 91; // '['
    const seq = isInput ? Number(line.slice(1, line.indexOf(','))) : Number(line);
    if (seq !== this.expectedSeq) {
      return {
        seq: this.expectedSeq,
        reason: `entry ${this.expectedSeq} is missing (the next stored entry is ${seq})`,
      };
    }
    if (!isInput) return { seq, reason: `entry ${seq} was changed after it was written` };
    const end = line.length - 64;
    if (!line.endsWith(`,"${this.prevHash}"]`, end)) {
      return {
        seq,
        reason: `entry ${seq} does not link to entry ${seq - 1} (rows removed, reordered or replaced)`,
      };
    }
    const stored = line.slice(end);
    if (hash('sha256', line.slice(0, end)) !== stored && this.recompute(seq) !== stored)
      return { seq, reason: `entry ${seq} was changed after it was written` };
    this.prevHash = stored;
    this.expectedSeq++;
    return null;
  }

  private recompute(seq: number): string {
    this.fields ??= ((select) => (s: number) => {
      const row = select.get(s);
      return row ? entryHashOf(...row) : '';
    })(
      this.db
        .prepare<[number], [number, string, string, string | null, string, string, string]>(
          'SELECT seq, ts, type, agent_id, actor, payload, prev_hash FROM ledger_entries WHERE seq = ?',
        )
        .raw(),
    );
    return this.fields(seq);
  }
}

/** What checking entries from..to found: the first problem, or none and the hash of `to`. */
export interface ChainChunkResult {
  problem: ChainProblem | null;
  head: string;
  /** How many of the chunk's entries are of the replayed types. */
  replayable: number;
}

/**
 * Checks entries from..to of `db`. A chunk that does not start at 1 links its first entry to the
 * stored hash of the entry before it: the chunk holding that entry proves the hash right, so
 * chunks checked apart (on several threads) check the whole chain. An entry of an unknown type is
 * a problem too, unless an earlier one was found.
 */
export function checkChainChunk(db: LedgerDb, from: number, to: number, types: ChainTypes): ChainChunkResult {
  const chain = new ChainCheck(db);
  if (from > 1) {
    chain.expectedSeq = from;
    // A missing entry before the chunk is reported by the chunk that holds it.
    chain.prevHash =
      (db
        .prepare<[number], string>('SELECT hash FROM ledger_entries WHERE seq = ?')
        .pluck()
        .get(from - 1) as string | undefined) ?? 'missing';
  }
  const [text, replayable, unknownSeq] = db
    .prepare<[Record<string, unknown>], [string | null, number, number | null]>(CHAIN_CHUNK_QUERY)
    .raw()
    .get({ from, to, ...types }) ?? [null, 0, null];
  const problem = walk(chain, text ?? '', to);
  if (unknownSeq !== null && (!problem || unknownSeq < problem.seq)) {
    const type = db
      .prepare<[number], string>('SELECT type FROM ledger_entries WHERE seq = ?')
      .pluck()
      .get(unknownSeq);
    return {
      problem: { seq: unknownSeq, reason: `entry ${unknownSeq} has an unknown type "${type}"` },
      head: '',
      replayable,
    };
  }
  return { problem, head: chain.prevHash, replayable };
}

/** Gives each line of `text` to `chain`: the first problem, or a missing entry before `to`. */
function walk(chain: ChainCheck, text: string, to: number): ChainProblem | null {
  for (let start = 0; start < text.length; ) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const problem = chain.next(text.slice(start, end));
    if (problem) return problem;
    start = end + 1;
  }
  if (chain.expectedSeq > to) return null;
  const seq = chain.expectedSeq;
  return { seq, reason: `entry ${seq} is missing (the chain ends at ${seq - 1})` };
}
