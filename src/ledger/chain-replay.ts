import { STATE_CHANGING_TYPES } from '../core/derived-state.js';
import { LEDGER_ENTRY_TYPES, type LedgerEntry } from '../core/ledger-entries.js';
import type { ChainProblem, ChainTypes } from './chain-check.js';
import { ChainFold } from './chain-fold.js';
import type { CheckpointCheck } from './checkpoint-check.js';
import type { LedgerDb } from './open-ledger-db.js';
import type { PinnedKey } from './pinned-key.js';
import { ProjectionReplay } from './projection-replay.js';

/**
 * The entry types the replay reads: those it applies to the projections or folds into the state,
 * and the pinned key. Any other entry only adds an `agent_actions` row, which is compared with the
 * chain as a set.
 */
export const REPLAYED_TYPES: readonly string[] = [
  ...new Set([...ProjectionReplay.types, ...STATE_CHANGING_TYPES, 'ledger.key_pinned']),
];

/** The types for the chain check, which counts the replayed entries and finds unknown types. */
export const CHAIN_TYPES: ChainTypes = { replayed: REPLAYED_TYPES, known: LEDGER_ENTRY_TYPES };
const REPLAYED_JSON = JSON.stringify(REPLAYED_TYPES);
const KNOWN_JSON = JSON.stringify(LEDGER_ENTRY_TYPES);

/**
 * Where the replayed entries are, found through the (type, agent_id) index: a hint, never proof.
 * Each row is then read from the table itself, and verify counts the entries of these types in
 * its pass over every row (`ChainCheckResult.replayable`): an index that hides an entry gives a
 * count that differs, and the replay is done again by reading every row (`scan`).
 */
const INDEXED_SEQS = `SELECT seq FROM ledger_entries INDEXED BY ledger_entries_type_agent
  WHERE type IN (SELECT value FROM json_each(?)) AND seq <= ?`;
const ROWS_BY_SEQ = `SELECT seq, type, agent_id, ts, actor, payload FROM ledger_entries NOT INDEXED
  WHERE seq IN (SELECT value FROM json_each(?)) ORDER BY seq`;

/**
 * The replayed entries and any of a type this build does not know, read from the rows themselves.
 * `NOT INDEXED`: the rows, never an index of the file being verified, say which entries there are.
 */
const SCAN_QUERY = `SELECT seq, type, agent_id, ts, actor, payload FROM ledger_entries NOT INDEXED
  WHERE seq > ? AND seq <= ?
    AND (type IN (SELECT value FROM json_each(?)) OR type NOT IN (SELECT value FROM json_each(?)))
  ORDER BY seq`;
/**
 * How many entries a batch holds (by range or by sequence list, so each batch reads its own rows).
 * Small: a batch's rows stay alive until it is replayed, and the garbage collector copies what
 * stays alive (4,096 rather than 65,536 took the replay of 200,000 entries from ~90 to ~76 ms).
 */
const REPLAY_WINDOW = 4096;
type ReplayRow = [number, string, string | null, string, string, string];

/** A stored entry whose payload is parsed only if a projection or the state fold reads it. */
class StoredEntry {
  private parsed: unknown;
  constructor(
    readonly seq: number,
    readonly ts: string,
    readonly type: string,
    readonly agentId: string | null,
    readonly actor: string,
    private readonly text: string,
  ) {}
  get payload(): unknown {
    this.parsed ??= JSON.parse(this.text);
    return this.parsed;
  }
}

/**
 * What the replay of the chain found: the key pinned in it, or the first entry it could not take;
 * how many entries of REPLAYED_TYPES it replayed, and whether it found them through the index.
 */
export interface ChainReplay {
  pinned: PinnedKey | null;
  problem: ChainProblem | null;
  replayed: number;
  indexed: boolean;
}

/**
 * Replays the entries of REPLAYED_TYPES up to `upTo` in one pass: rebuilds the projections into
 * `replay`, folds the derived state for `checkpoints` up to the newest checkpoint's head, and
 * finds the pinned signing key (once; the key given as `expectedKey`, if any). Stops at a second
 * or unexpected pin, or an entry that cannot be replayed; reading every row (`scan`), at an entry
 * of an unknown type too. Through the index when it can, unless `scan`.
 */
export function replayChain(
  db: LedgerDb,
  upTo: number,
  replay: ProjectionReplay,
  checkpoints: CheckpointCheck,
  expectedKey: { key: string; source: string } | undefined,
  scan = false,
): ChainReplay {
  const wanted = new Set(REPLAYED_TYPES);
  const applied = new Set(ProjectionReplay.types);
  const known = new Set<string>(LEDGER_ENTRY_TYPES);
  const fold = new ChainFold(checkpoints, expectedKey);
  const batches = (!scan && indexedBatches(db, upTo)) || scannedBatches(db, upTo);
  const result: ChainReplay = { pinned: null, problem: null, replayed: 0, indexed: batches.indexed };
  for (const batch of batches.rows) {
    for (const [seq, type, agentId, ts, actor, payload] of batch) {
      if (!wanted.has(type)) {
        if (known.has(type)) continue; // the index said otherwise: the count will tell
        result.problem = { seq, reason: `entry ${seq} has an unknown type "${type}"` };
        return result;
      }
      result.replayed++;
      const entry = new StoredEntry(seq, ts, type, agentId, actor, payload) as unknown as LedgerEntry;
      try {
        const bad = fold.take(entry);
        result.pinned = fold.pinned;
        if (bad) return { ...result, problem: { seq, reason: bad } };
        if (applied.has(type)) replay.apply(entry);
      } catch (error) {
        return {
          ...result,
          problem: { seq, reason: `entry ${seq} cannot be replayed: ${(error as Error).message}` },
        };
      }
    }
  }
  fold.end(upTo);
  return result;
}

/**
 * The rows of the replayed entries up to `upTo`, found through the index, a window at a time (the
 * connection cannot write the replay while a statement iterates over it, so each batch is read
 * whole first); null if the index is not there.
 */
function indexedBatches(
  db: LedgerDb,
  upTo: number,
): { rows: Iterable<ReplayRow[]>; indexed: boolean } | null {
  let seqs: Float64Array;
  try {
    const found = db.prepare<[string, number], number>(INDEXED_SEQS).pluck().all(REPLAYED_JSON, upTo);
    seqs = distinctSeqs(Float64Array.from(found).sort(), upTo);
  } catch {
    return null;
  }
  const select = db.prepare<[string]>(ROWS_BY_SEQ).raw();
  function* rows(): Generator<ReplayRow[]> {
    for (let from = 0; from < seqs.length; from += REPLAY_WINDOW) {
      const window = Array.from(seqs.subarray(from, from + REPLAY_WINDOW));
      yield select.all(JSON.stringify(window)) as ReplayRow[];
    }
  }
  return { rows: rows(), indexed: true };
}

/**
 * The sorted sequence numbers an index listed, each once across all windows, only entries 1..upTo:
 * an index that lists one entry twice (on either side of a window's edge) to make up for one it
 * hides gives one fewer, and the count tells. Each is then read from the table by its rowid and
 * counted only if its stored type is replayed: the count equals the chain's only if every
 * replayed entry was found.
 */
function distinctSeqs(sorted: Float64Array, upTo: number): Float64Array {
  let kept = 0;
  for (const seq of sorted) {
    if (!Number.isInteger(seq) || seq < 1 || seq > upTo) continue;
    if (kept > 0 && sorted[kept - 1] === seq) continue;
    sorted[kept++] = seq;
  }
  return sorted.subarray(0, kept);
}

/** The rows of SCAN_QUERY up to `upTo`, a window of sequence numbers at a time. */
function scannedBatches(db: LedgerDb, upTo: number): { rows: Iterable<ReplayRow[]>; indexed: boolean } {
  const select = db.prepare<[number, number, string, string]>(SCAN_QUERY).raw();
  function* rows(): Generator<ReplayRow[]> {
    for (let after = 0; after < upTo; after += REPLAY_WINDOW) {
      const to = Math.min(upTo, after + REPLAY_WINDOW);
      yield select.all(after, to, REPLAYED_JSON, KNOWN_JSON) as ReplayRow[];
    }
  }
  return { rows: rows(), indexed: false };
}
