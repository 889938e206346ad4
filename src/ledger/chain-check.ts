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
 * The entries from..to as one text, a line each: its hash input followed by its stored hash. One
 * value crosses into JS per chunk, not one per entry (moving values out of SQLite costs more than
 * building them). JSON text never holds a raw newline; a stored hash that does, or is not 64
 * characters long, fails the line's check and the entry is judged from its stored columns. The
 * lines come in the order of the scan by rowid, ascending seq (an ORDER BY inside the aggregate
 * would sort them again); lines out of order would be reported as missing entries, never pass.
 */
const CHAIN_CHUNK_QUERY = `SELECT group_concat(${HASH_INPUT} || ifnull(hash, ''), char(10)) FROM ledger_entries NOT INDEXED
  WHERE seq >= ? AND seq <= ?`;

/** The first entry from..to with a BLOB in a column (no entry is written with one). */
const FIRST_BLOB_QUERY = `SELECT seq FROM ledger_entries NOT INDEXED WHERE seq >= ? AND seq <= ?
  AND 'blob' IN (typeof(ts), typeof(type), typeof(agent_id), typeof(actor), typeof(payload), typeof(prev_hash), typeof(hash))
  ORDER BY seq LIMIT 1`;

/**
 * The entry types verify replays (it finds them through an index, and the chain check counts
 * them from the entries themselves), and every type this build knows.
 */
export interface ChainTypes {
  replayed: readonly string[];
  /** Null: any type (the chain alone is checked). */
  known: readonly string[] | null;
}

/** How much of the ledger file verify maps into memory (SQLite caps it at its own maximum). */
export const VERIFY_MMAP_BYTES = 1 << 30;

/**
 * What `PRAGMA integrity_check` says of the chain's table and its index (`["ok"]` when its index
 * holds exactly its rows): the service finds entries by type through that index. ~125 ms per
 * 200,000 entries, so a worker does it beside the chain check on a large ledger.
 */
export function chainIntegrity(db: LedgerDb): string[] {
  return db.prepare('PRAGMA main.integrity_check(ledger_entries)').pluck().all() as string[];
}

/** The first entry where the stored chain stops being the chain written. */
export interface ChainProblem {
  seq: number;
  reason: string;
}

/**
 * Walks the chain in order: no entry missing, each linked to the one before, each hashing to its
 * stored hash, each of a type this build knows. `next` is called once per entry, in sequence
 * order; `replayable` counts the entries of the replayed types, `withAgent` those with an agent
 * (agent_id neither null nor empty: each writes a row of `agent_actions`).
 */
export class ChainCheck {
  expectedSeq = 1;
  prevHash = GENESIS_HASH;
  replayable = 0;
  withAgent = 0;
  /** The type and agent of the entry checked last, read from its line. */
  private readonly fields: EntryFields = { type: '', withAgent: false };
  private readonly replayed: ReadonlySet<string>;
  private readonly known: ReadonlySet<string> | null;
  private columns: ((seq: number) => StoredColumns | undefined) | null = null;

  constructor(
    private readonly db: LedgerDb,
    types: ChainTypes,
  ) {
    this.replayed = new Set(types.replayed);
    this.known = types.known && new Set(types.known);
  }

  /**
   * The line at text[start, end). Its input starts `[seq,` and ends with the JSON string of
   * `prev_hash`; a JSON string never holds an unescaped `"`, so an input ending
   * `,"<previous hash>"]` is one whose `prev_hash` is exactly the previous hash.
   */
  next(text: string, start: number, end: number): ChainProblem | null {
    const seq = seqOf(text, start);
    if (seq !== this.expectedSeq) {
      return {
        seq: this.expectedSeq,
        reason: `entry ${this.expectedSeq} is missing (the next stored entry is ${seq})`,
      };
    }
    const inputEnd = end - 64;
    const stored = text.slice(inputEnd, end);
    let type: string;
    let withAgent: boolean;
    if (this.links(text, start, inputEnd) && hash('sha256', text.slice(start, inputEnd)) === stored) {
      this.prevHash = stored;
      readFields(text, start, inputEnd, this.fields);
      ({ type, withAgent } = this.fields);
    } else {
      const row = this.storedColumns(seq);
      if (!row || row[5] !== this.prevHash) {
        return {
          seq,
          reason: `entry ${seq} does not link to entry ${seq - 1} (rows removed, reordered or replaced)`,
        };
      }
      const [ts, storedType, agentId, actor, payload, prevHash, storedHash] = row;
      if (entryHashOf(seq, ts, storedType, agentId, actor, payload, prevHash) !== storedHash)
        return { seq, reason: `entry ${seq} was changed after it was written` };
      this.prevHash = storedHash;
      type = storedType;
      withAgent = agentId !== null && agentId !== '';
    }
    if (this.known && !this.known.has(type))
      return { seq, reason: `entry ${seq} has an unknown type "${type}"` };
    if (this.replayed.has(type)) this.replayable++;
    if (withAgent) this.withAgent++;
    this.expectedSeq++;
    return null;
  }

  /**
   * Whether the input at text[start, end) ends `,"<previous hash>"]`. (A slice compared with ===:
   * `startsWith` at a position costs four times as much on a text this long.)
   */
  private links(text: string, start: number, end: number): boolean {
    const at = end - 68;
    return (
      at > start &&
      text.charCodeAt(at) === 44 && // ,
      text.charCodeAt(at + 1) === 34 && // "
      text.charCodeAt(end - 2) === 34 && // "
      text.charCodeAt(end - 1) === 93 && // ]
      text.slice(at + 2, end - 2) === this.prevHash
    );
  }

  /** An entry's stored columns, to judge it when its line does not check. */
  private storedColumns(seq: number): StoredColumns | undefined {
    if (!this.columns) {
      const select = this.db
        .prepare<[number], StoredColumns>(
          'SELECT ts, type, agent_id, actor, payload, prev_hash, hash FROM ledger_entries NOT INDEXED WHERE seq = ?',
        )
        .raw();
      this.columns = (s) => select.get(s);
    }
    return this.columns(seq);
  }
}

type StoredColumns = [string, string, string | null, string, string, string, string];

/**
 * The sequence number a line starts with, `[seq,`: its digits read in place (no text cut out for
 * each entry); anything else (a sign, a leading zero, more digits than a double holds exactly) is
 * read as the text says, to be reported.
 */
function seqOf(text: string, start: number): number {
  let seq = 0;
  let at = start + 1;
  for (let c = text.charCodeAt(at); c >= 48 && c <= 57; c = text.charCodeAt(++at)) seq = seq * 10 + c - 48;
  const digits = at - start - 1;
  if (digits > 0 && digits <= 15 && text.charCodeAt(at) === 44 && text.charCodeAt(start + 1) !== 48)
    return seq;
  return Number(text.slice(start + 1, text.indexOf(',', start)));
}

interface EntryFields {
  type: string;
  /** Whether agent_id is a string other than ''. */
  withAgent: boolean;
}

/**
 * The type and agent of a checked hash input `[seq,"ts","type",agent,…` at text[start, end), read
 * in place: a quote with no backslash before it ends a JSON string, and the agent follows the
 * type's closing quote and a comma, `null` or a string (`""` when empty). Decoded whole where ts
 * or type holds an escape.
 */
function readFields(text: string, start: number, end: number, into: EntryFields): void {
  const tsOpen = text.indexOf(',', start) + 1;
  const tsClose = text.indexOf('"', tsOpen + 1);
  const typeClose = text.indexOf('"', tsClose + 3);
  const plain =
    text.charCodeAt(tsOpen) === 34 &&
    text.charCodeAt(tsClose - 1) !== 92 &&
    text.charCodeAt(tsClose + 1) === 44 &&
    text.charCodeAt(tsClose + 2) === 34 &&
    typeClose < end &&
    text.charCodeAt(typeClose - 1) !== 92;
  const type = plain ? text.slice(tsClose + 3, typeClose) : '\\';
  if (!type.includes('\\')) {
    into.type = type;
    into.withAgent = text.charCodeAt(typeClose + 2) === 34 && text.charCodeAt(typeClose + 3) !== 34;
    return;
  }
  const values = JSON.parse(text.slice(start, end)) as unknown[];
  into.type = String(values[2]);
  into.withAgent = typeof values[3] === 'string' && values[3] !== '';
}

/** What checking entries from..to found: the first problem, or none and the hash of `to`. */
export interface ChainChunkResult {
  problem: ChainProblem | null;
  head: string;
  /** How many of the chunk's entries are of the replayed types. */
  replayable: number;
  /** How many of the chunk's entries have an agent (`ChainCheck.withAgent`). */
  withAgent: number;
}

/**
 * Checks entries from..to of `db`. A chunk that does not start at 1 links its first entry to the
 * stored hash of the entry before it: the chunk holding that entry proves the hash right, so
 * chunks checked apart (on several threads) check the whole chain.
 */
export function checkChainChunk(db: LedgerDb, from: number, to: number, types: ChainTypes): ChainChunkResult {
  const chain = new ChainCheck(db, types);
  if (from > 1) {
    chain.expectedSeq = from;
    // A missing entry before the chunk is reported by the chunk that holds it.
    chain.prevHash =
      (db
        .prepare<[number], string>('SELECT hash FROM ledger_entries NOT INDEXED WHERE seq = ?')
        .pluck()
        .get(from - 1) as string | undefined) ?? 'missing';
  }
  const query = db.prepare<[number, number], string | null>(CHAIN_CHUNK_QUERY).pluck();
  let problem: ChainProblem | null;
  try {
    problem = walk(chain, query.get(from, to) ?? '', to);
  } catch (error) {
    // JSON holds no BLOB: the entries before the first BLOB are checked, then it is named.
    const blob = db.prepare<[number, number], number>(FIRST_BLOB_QUERY).pluck().get(from, to);
    if (blob === undefined) throw error;
    problem = walk(chain, query.get(from, blob - 1) ?? '', blob - 1) ?? {
      seq: blob,
      reason: `entry ${blob} holds a BLOB where the chain stores text: it was changed after it was written`,
    };
  }
  return { problem, head: chain.prevHash, replayable: chain.replayable, withAgent: chain.withAgent };
}

/** Gives each line of `text` to `chain`: the first problem, or a missing entry before `to`. */
function walk(chain: ChainCheck, text: string, to: number): ChainProblem | null {
  for (let start = 0; start < text.length; ) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const problem = chain.next(text, start, end);
    if (problem) return problem;
    start = end + 1;
  }
  if (chain.expectedSeq > to) return null;
  const seq = chain.expectedSeq;
  return { seq, reason: `entry ${seq} is missing (the chain ends at ${seq - 1})` };
}

/** Entries per query of `checkChain`. */
const CHAIN_CHECK_CHUNK = 4096;

/**
 * Checks the chain 1..upTo of `db` on this thread, whatever the entries' types: the chain alone,
 * for a ledger that is not replayed.
 */
export function checkChain(
  db: LedgerDb,
  upTo: number,
): { problem: ChainProblem | null; checked: number; head: string } {
  const types: ChainTypes = { replayed: [], known: null };
  let head = GENESIS_HASH;
  for (let from = 1; from <= upTo; from += CHAIN_CHECK_CHUNK) {
    const result = checkChainChunk(db, from, Math.min(upTo, from + CHAIN_CHECK_CHUNK - 1), types);
    if (result.problem)
      return { problem: result.problem, checked: result.problem.seq - 1, head: result.head };
    head = result.head;
  }
  return { problem: null, checked: upTo, head };
}
