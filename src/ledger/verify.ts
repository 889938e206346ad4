import { hash } from 'node:crypto';
import { applyStateChanges, emptyDerivedState, stateChangesFor } from '../core/derived-state.js';
import { isLedgerEntryType, type LedgerEntry } from '../core/ledger-entries.js';
import { CheckpointCheck, type TrustedKey } from './checkpoint-check.js';
import { entryHashOf, GENESIS_HASH } from './entry-hash.js';
import type { EntryRow } from './ledger.js';
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
 * The chain as verify reads it, a batch at a time. SQLite builds each entry's hash input:
 * `json_array` encodes the stored values as `JSON.stringify` does, and a JSON text decodes one way
 * only, so a match proves the values are the ones hashed; a mismatch is recomputed in JS before it
 * is called tampering.
 */
const CHAIN_QUERY = `SELECT seq, json_array(seq, ts, type, agent_id, actor, payload, prev_hash), hash,
    prev_hash, type, agent_id, ts, actor
  FROM ledger_entries WHERE seq > ? ORDER BY seq LIMIT 4096`;
type ChainRow = [number, string, string, string, string, string | null, string, string];
/** The payload is read only for the entries whose projections or state read it. */
const PAYLOAD_QUERY = 'SELECT payload FROM ledger_entries WHERE seq = ?';

const sha256 = (text: string) => hash('sha256', text);

/** A stored entry whose payload is read and parsed only if a projection or the state fold reads it. */
class StoredEntry {
  private parsed: unknown;
  constructor(
    readonly seq: number,
    readonly ts: string,
    readonly type: string,
    readonly agentId: string | null,
    readonly actor: string,
    readonly prevHash: string,
    readonly hash: string,
    private readonly read: (seq: number) => string,
  ) {}
  get payload(): unknown {
    this.parsed ??= JSON.parse(this.read(this.seq));
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
  db: LedgerDb,
  trustedHeads: readonly TrustedHead[] = [],
  options: VerifyOptions = {},
): VerifyResult {
  const notes: string[] = [];
  const triggers = db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'ledger_entries'")
    .all() as { name: string }[];
  if (triggers.length < 3) {
    notes.push('warning: the append-only triggers of ledger_entries are missing; someone dropped them');
  }
  const replay = new ProjectionReplay(db);
  try {
    return db.transaction(() => replayAndCompare(db, replay, trustedHeads, options, notes))();
  } finally {
    replay.detach();
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
  const state = emptyDerivedState();
  if (checkpoints.wants(0)) checkpoints.reached(0, state);
  let pinned: PinnedKey | null = null;
  let expectedSeq = 1;
  let prevHash = GENESIS_HASH;
  const fail = (seq: number, reason: string): VerifyResult => ({
    ok: false,
    checked: expectedSeq - 1,
    firstBadSeq: seq,
    reason,
    notes,
    problem: { kind: 'entry', seq },
  });

  const payloadOf = db.prepare<[number], string>(PAYLOAD_QUERY).pluck();
  const readPayload = (seq: number) => payloadOf.get(seq) ?? '';
  // In batches: the connection cannot write the replay while a statement iterates over it.
  const select = db.prepare<[number]>(CHAIN_QUERY).raw();
  let batch = select.all(0) as ChainRow[];
  for (let i = 0; i < batch.length; i++) {
    const [seq, input, hash, prev, type, agentId, ts, actor] = batch[i]!;
    if (i === batch.length - 1) {
      batch = select.all(seq) as ChainRow[];
      i = -1;
    }
    if (seq !== expectedSeq)
      return fail(expectedSeq, `entry ${expectedSeq} is missing (the next stored entry is ${seq})`);
    if (prev !== prevHash) {
      return fail(
        seq,
        `entry ${seq} does not link to entry ${seq - 1} (rows removed, reordered or replaced)`,
      );
    }
    if (
      sha256(input) !== hash &&
      entryHashOf(seq, ts, type, agentId, actor, readPayload(seq), prevHash) !== hash
    )
      return fail(seq, `entry ${seq} was changed after it was written`);
    if (!isLedgerEntryType(type)) return fail(seq, `entry ${seq} has an unknown type "${type}"`);
    const entry = new StoredEntry(
      seq,
      ts,
      type,
      agentId,
      actor,
      prevHash,
      hash,
      readPayload,
    ) as unknown as LedgerEntry;
    try {
      if (entry.type === 'ledger.key_pinned') {
        const problem = pinProblem(entry.payload.publicKey, seq, pinned, options);
        if (problem) return fail(seq, problem);
        pinned = { seq, publicKey: entry.payload.publicKey };
      }
      replay.apply(entry);
      if (checkpoints.wants(seq)) {
        applyStateChanges(state, stateChangesFor(entry));
        checkpoints.reached(seq, state);
      }
    } catch (error) {
      return fail(seq, `entry ${seq} cannot be replayed: ${(error as Error).message}`);
    }
    prevHash = hash;
    expectedSeq++;
  }
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
  const mismatch = replay.compare();
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
    head: { seq: lastSeq, hash: prevHash },
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
