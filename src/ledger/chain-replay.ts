import {
  applyStateChanges,
  emptyDerivedState,
  STATE_CHANGING_TYPES,
  stateChangesFor,
} from '../core/derived-state.js';
import { LEDGER_ENTRY_TYPES, type LedgerEntry } from '../core/ledger-entries.js';
import type { ChainProblem } from './chain-check.js';
import type { CheckpointCheck } from './checkpoint-check.js';
import type { LedgerDb } from './open-ledger-db.js';
import type { PinnedKey } from './pinned-key.js';
import { ProjectionReplay } from './projection-replay.js';

/**
 * The entries the replay reads, a batch at a time: those of the types it applies or folds, the
 * pinned key, each checkpoint's head, and any of a type this build does not know. Any other entry
 * only adds an `agent_actions` row, which is compared with the chain as a set. `NOT INDEXED`: the
 * rows themselves, never an index of the file being verified, say which entries there are.
 */
const REPLAY_QUERY = `SELECT seq, type, agent_id, ts, actor, payload FROM ledger_entries NOT INDEXED
  WHERE seq > ? AND seq <= ?
    AND (type IN (SELECT value FROM json_each(?)) OR type NOT IN (SELECT value FROM json_each(?))
      OR seq IN (SELECT value FROM json_each(?)))
  ORDER BY seq`;
/** How many sequence numbers a batch spans (by range, so each batch reads only its own rows). */
const REPLAY_WINDOW = 65_536;
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

/** What the replay of the chain found: the key pinned in it, or the first entry it could not take. */
export interface ChainReplay {
  pinned: PinnedKey | null;
  problem: ChainProblem | null;
}

/**
 * Replays entries 1..upTo in one pass: rebuilds the projections into `replay`, folds the derived
 * state for `checkpoints` up to the newest checkpoint's head, and finds the pinned signing key
 * (once; the key given as `expectedKey`, if any). Stops at an entry of an unknown type, a second
 * or unexpected pin, or an entry that cannot be replayed.
 */
export function replayChain(
  db: LedgerDb,
  upTo: number,
  replay: ProjectionReplay,
  checkpoints: CheckpointCheck,
  expectedKey: { key: string; source: string } | undefined,
): ChainReplay {
  const replayed = new Set(ProjectionReplay.types);
  const folded = new Set<string>(STATE_CHANGING_TYPES);
  const known = new Set<string>(LEDGER_ENTRY_TYPES);
  const state = emptyDerivedState();
  if (checkpoints.wants(0)) checkpoints.reached(0, state);
  let pinned: PinnedKey | null = null;
  const heads = checkpoints.rows.map((row) => row.head_seq);
  for (const batch of replayBatches(db, upTo, heads)) {
    for (const [seq, type, agentId, ts, actor, payload] of batch) {
      if (!known.has(type))
        return { pinned, problem: { seq, reason: `entry ${seq} has an unknown type "${type}"` } };
      const entry = new StoredEntry(seq, ts, type, agentId, actor, payload) as unknown as LedgerEntry;
      try {
        if (entry.type === 'ledger.key_pinned') {
          const bad = pinProblem(entry.payload.publicKey, seq, pinned, expectedKey);
          if (bad) return { pinned, problem: { seq, reason: bad } };
          pinned = { seq, publicKey: entry.payload.publicKey };
        }
        if (replayed.has(entry.type)) replay.apply(entry);
        if (checkpoints.wants(seq)) {
          if (folded.has(entry.type)) applyStateChanges(state, stateChangesFor(entry));
          checkpoints.reached(seq, state);
        }
      } catch (error) {
        return {
          pinned,
          problem: { seq, reason: `entry ${seq} cannot be replayed: ${(error as Error).message}` },
        };
      }
    }
  }
  return { pinned, problem: null };
}

/**
 * The rows of REPLAY_QUERY up to `upTo`, a window at a time: the connection cannot write the
 * replay while a statement iterates over it, so each batch is read whole first.
 */
function* replayBatches(db: LedgerDb, upTo: number, checkpointHeads: number[]): Generator<ReplayRow[]> {
  const select = db.prepare<[number, number, string, string, string]>(REPLAY_QUERY).raw();
  const wanted = JSON.stringify([
    ...new Set([...ProjectionReplay.types, ...STATE_CHANGING_TYPES, 'ledger.key_pinned']),
  ]);
  const knownList = JSON.stringify(LEDGER_ENTRY_TYPES);
  const heads = JSON.stringify(checkpointHeads);
  for (let after = 0; after < upTo; after += REPLAY_WINDOW) {
    const to = Math.min(upTo, after + REPLAY_WINDOW);
    yield select.all(after, to, wanted, knownList, heads) as ReplayRow[];
  }
}

/** Why a `ledger.key_pinned` entry is bad: a second pin, or not the key the verifier was given. */
function pinProblem(
  publicKey: string,
  seq: number,
  pinned: PinnedKey | null,
  expectedKey: { key: string; source: string } | undefined,
): string | null {
  if (pinned) {
    return `entry ${seq} pins a second signing key (the first is pinned at entry ${pinned.seq}): the key was swapped`;
  }
  if (expectedKey && expectedKey.key !== publicKey)
    return `entry ${seq} pins a key other than the one in ${expectedKey.source}: the key was swapped`;
  return null;
}
