import {
  applyStateChanges,
  emptyDerivedState,
  STATE_CHANGING_TYPES,
  stateChangesFor,
} from '../core/derived-state.js';
import { LEDGER_ENTRY_TYPES, type LedgerEntry } from '../core/ledger-entries.js';
import { type ChainProblem, VERIFY_MMAP_BYTES } from './chain-check.js';
import { startChainCheck } from './chain-check-thread.js';
import { CheckpointCheck, type TrustedKey } from './checkpoint-check.js';
import type { EntryRow } from './ledger.js';
import { dbOf, type LedgerSource } from './ledger.js';
import type { LedgerDb } from './open-ledger-db.js';
import type { PinnedKey } from './pinned-key.js';
import { ProjectionReplay } from './projection-replay.js';
import { PROJECTION_TABLES } from './projections.js';

/** A head someone trusts: from the newest checkpoint, or a signed head kept off the host. */
export interface TrustedHead {
  seq: number;
  hash: string;
  /** Where the head came from, for the report. */
  source: string;
}

export interface VerifyOptions {
  /** A public key given to the verifier (base64 SPKI), kept off the host: the pinned key must be it. */
  publicKey?: { key: string; source: string } | undefined;
  /** This host's signing key: checkpoints are checked against it while nothing is pinned yet. */
  hostPublicKey?: string | undefined;
}

/** What was found bad first: an entry, a checkpoint, or a row of a projection table. */
export type VerifyProblem =
  | { kind: 'entry'; seq: number }
  | { kind: 'checkpoint'; checkpointId: string }
  | { kind: 'projection'; table: string; key: string };

export type VerifyResult =
  | {
      ok: true;
      checked: number;
      head: { seq: number; hash: string };
      notes: string[];
      pinned: PinnedKey | null;
      checkpoints: { count: number; key: string | null };
      tables: string[];
    }
  | {
      ok: false;
      checked: number;
      /** The entry where the history stops being the history written; for other problems, the row's or head's. */
      firstBadSeq: number;
      reason: string;
      notes: string[];
      problem: VerifyProblem;
    };

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

/**
 * Replays the whole chain in one pass and checks that the stored ledger is the one written:
 * - the chain: each entry's hash and link (an edited, missing, reordered or forged row);
 * - the signing key pinned in the chain (once; the key given with `publicKey`, if any);
 * - every checkpoint: signed by the pinned key, its head in the chain (a tail cut off), its state
 *   equal to its signed hash and to the state the chain folds to at its head;
 * - every projection table, rebuilt from the chain with the append path's own code.
 * Reports the first bad entry, checkpoint or table row. Reads one snapshot of the database.
 */
export function verifyLedger(
  store: LedgerSource,
  trustedHeads: readonly TrustedHead[] = [],
  options: VerifyOptions = {},
): VerifyResult {
  const db = dbOf(store);
  const notes: string[] = [];
  const triggers = db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'ledger_entries'")
    .all() as { name: string }[];
  if (triggers.length < 3) {
    notes.push('warning: the append-only triggers of ledger_entries are missing; someone dropped them');
  }
  // Verify reads the whole file: mapped, its pages are read without a system call each.
  const mmap = db.pragma('mmap_size', { simple: true }) as number;
  if (!db.memory) db.pragma(`mmap_size = ${VERIFY_MMAP_BYTES}`);
  const replay = new ProjectionReplay(db);
  try {
    return db.transaction(() => replayAndCompare(db, replay, trustedHeads, options, notes))();
  } finally {
    replay.detach();
    if (!db.memory) db.pragma(`mmap_size = ${mmap}`);
  }
}

function replayAndCompare(
  db: LedgerDb,
  replay: ProjectionReplay,
  trustedHeads: readonly TrustedHead[],
  options: VerifyOptions,
  notes: string[],
): VerifyResult {
  const checkpoints = new CheckpointCheck(db);
  const replayed = new Set(ProjectionReplay.types);
  const folded = new Set<string>(STATE_CHANGING_TYPES);
  const state = emptyDerivedState();
  if (checkpoints.wants(0)) checkpoints.reached(0, state);
  let pinned: PinnedKey | null = null;
  const upTo = (db.prepare('SELECT coalesce(max(seq), 0) FROM ledger_entries').pluck().get() as number) ?? 0;
  // The hash chain is checked in ranges on other threads (a large ledger file) while this one replays.
  const chain = startChainCheck(db, upTo);
  let problem: ChainProblem | null = null;
  const heads = JSON.stringify(checkpoints.rows.map((row) => row.head_seq));
  const wanted = JSON.stringify([
    ...new Set([...ProjectionReplay.types, ...STATE_CHANGING_TYPES, 'ledger.key_pinned']),
  ]);
  // In batches: the connection cannot write the replay while a statement iterates over it.
  const select = db.prepare<[number, number, string, string, string]>(REPLAY_QUERY).raw();
  const known = new Set<string>(LEDGER_ENTRY_TYPES);
  const knownList = JSON.stringify(LEDGER_ENTRY_TYPES);
  entries: for (let after = 0; after < upTo; after += REPLAY_WINDOW) {
    const to = Math.min(upTo, after + REPLAY_WINDOW);
    const batch = select.all(after, to, wanted, knownList, heads) as ReplayRow[];
    for (const [seq, type, agentId, ts, actor, payload] of batch) {
      if (!known.has(type)) {
        problem = { seq, reason: `entry ${seq} has an unknown type "${type}"` };
        break entries;
      }
      const entry = new StoredEntry(seq, ts, type, agentId, actor, payload) as unknown as LedgerEntry;
      try {
        if (entry.type === 'ledger.key_pinned') {
          const bad = pinProblem(entry.payload.publicKey, seq, pinned, options);
          if (bad) {
            problem = { seq, reason: bad };
            break entries;
          }
          pinned = { seq, publicKey: entry.payload.publicKey };
        }
        if (replayed.has(entry.type)) replay.apply(entry);
        if (checkpoints.wants(seq)) {
          if (folded.has(entry.type)) applyStateChanges(state, stateChangesFor(entry));
          checkpoints.reached(seq, state);
        }
      } catch (error) {
        problem = { seq, reason: `entry ${seq} cannot be replayed: ${(error as Error).message}` };
        break entries;
      }
    }
  }
  // The chain's own verdict comes first: a replay that failed on an entry the chain proves
  // tampered is reported as the tampering.
  const checked = chain.wait();
  const head = checked.head;
  if (checked.problem && (!problem || checked.problem.seq <= problem.seq)) problem = checked.problem;
  const expectedSeq = problem ? problem.seq : upTo + 1;
  const fail = (seq: number, reason: string): VerifyResult => ({
    ok: false,
    checked: Math.min(expectedSeq, seq) - 1,
    firstBadSeq: seq,
    reason,
    notes,
    problem: { kind: 'entry', seq },
  });
  if (problem) return fail(problem.seq, problem.reason);
  const lastSeq = expectedSeq - 1;
  const hashAt = db.prepare<[number], { hash: string }>('SELECT hash FROM ledger_entries WHERE seq = ?');
  const headProblem = (seq: number, hash: string, source: string) => {
    if (seq > lastSeq) {
      return {
        seq: lastSeq + 1,
        reason: `the ledger ends at ${lastSeq} but ${source} recorded head ${seq}: the tail was cut off`,
      };
    }
    if (seq > 0 && hashAt.get(seq)?.hash !== hash)
      return {
        seq,
        reason: `entry ${seq} does not match the hash that ${source} recorded: history was rewritten`,
      };
    return null;
  };

  const key = trustedKey(pinned, options, notes, checkpoints.rows.length > 0);
  if (checkpoints.rows.length > 0) {
    const bad = key
      ? checkpoints.problem(key, headProblem)
      : {
          checkpointId: checkpoints.rows[0]!.id,
          seq: null,
          reason: 'no public key to check the checkpoints against: pass --public-key FILE',
        };
    if (bad) {
      if (bad.seq !== null) return fail(bad.seq, bad.reason);
      const problem = { kind: 'checkpoint' as const, checkpointId: bad.checkpointId };
      return { ok: false, checked: lastSeq, firstBadSeq: 0, reason: bad.reason, notes, problem };
    }
  } else {
    notes.push('no trusted head to compare the tail against (no checkpoint yet)');
  }
  for (const head of trustedHeads) {
    const bad = headProblem(head.seq, head.hash, head.source);
    if (bad) return fail(bad.seq, bad.reason);
  }
  const mismatch = replay.compare(lastSeq);
  if (mismatch) {
    return {
      ok: false,
      checked: lastSeq,
      firstBadSeq: mismatch.seq ?? 0,
      reason: mismatch.reason,
      notes,
      problem: { kind: 'projection', table: mismatch.table, key: mismatch.key },
    };
  }
  return {
    ok: true,
    checked: lastSeq,
    head: { seq: lastSeq, hash: head },
    notes,
    pinned,
    checkpoints: { count: checkpoints.rows.length, key: key?.name ?? null },
    tables: PROJECTION_TABLES.map((t) => t.table),
  };
}

/** Why a `ledger.key_pinned` entry is bad: a second pin, or not the key the verifier was given. */
function pinProblem(
  publicKey: string,
  seq: number,
  pinned: PinnedKey | null,
  options: VerifyOptions,
): string | null {
  if (pinned) {
    return `entry ${seq} pins a second signing key (the first is pinned at entry ${pinned.seq}): the key was swapped`;
  }
  if (options.publicKey && options.publicKey.key !== publicKey)
    return `entry ${seq} pins a key other than the one in ${options.publicKey.source}: the key was swapped`;
  return null;
}

/** The key checkpoints must be signed by: pinned in the chain, else given, else this host's. */
function trustedKey(
  pinned: PinnedKey | null,
  options: VerifyOptions,
  notes: string[],
  haveCheckpoints: boolean,
): TrustedKey | null {
  if (pinned) return { publicKey: pinned.publicKey, name: `the key pinned at entry ${pinned.seq}` };
  if (options.publicKey) {
    if (haveCheckpoints) notes.push('no signing key is pinned in this ledger yet');
    return { publicKey: options.publicKey.key, name: `the key in ${options.publicKey.source}` };
  }
  if (!options.hostPublicKey) return null;
  if (haveCheckpoints) {
    notes.push(
      "no signing key is pinned in this ledger yet: checkpoints were checked against this host's signing key; the next checkpoint pins it",
    );
  }
  return { publicKey: options.hostPublicKey, name: "this host's signing key" };
}

/** Entries as plain objects in chain order, for export. */
export function* iterateEntries(store: LedgerSource, afterSeq = 0): Generator<LedgerEntry> {
  const db = dbOf(store);
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
