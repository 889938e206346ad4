import { VERIFY_MMAP_BYTES } from './chain-check.js';
import { startChainCheck } from './chain-check-thread.js';
import { CHAIN_TYPES, replayChain } from './chain-replay.js';
import { CheckpointCheck, type TrustedKey } from './checkpoint-check.js';
import { dbOf, type LedgerSource } from './ledger.js';
import type { LedgerDb } from './open-ledger-db.js';
import type { PinnedKey } from './pinned-key.js';
import { ProjectionReplay } from './projection-replay.js';
import { PROJECTION_TABLES } from './projections.js';
import { headCheck, trustedKey } from './verify-trust.js';

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
 * Replays the whole chain in one pass and checks that the stored ledger is the one written:
 * - the chain: each entry's hash and link (an edited, missing, reordered or forged row);
 * - the signing key pinned in the chain (once; the key given with `publicKey`, if any);
 * - every checkpoint: signed by the pinned key, its head in the chain (a tail cut off), its state
 *   equal to its signed hash and to the state the chain folds to at its head;
 * - every projection table, rebuilt from the chain with the append path's own code.
 * Reports the first bad entry, checkpoint or table row. Reads one snapshot of the database (and
 * the entries up to its head on the chain-check threads' own connections).
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
  const upTo = (db.prepare('SELECT coalesce(max(seq), 0) FROM ledger_entries').pluck().get() as number) ?? 0;
  const { checked, replayed, mismatch, checkpoints } = replayBesideChain(db, replay, upTo, options, notes);
  // The chain's own verdict comes first: a replay that failed on an entry the chain proves
  // tampered is reported as the tampering.
  let problem = replayed.problem;
  if (checked.problem && (!problem || checked.problem.seq <= problem.seq)) problem = checked.problem;
  const lastSeq = (problem ? problem.seq : upTo + 1) - 1;
  const fail = (seq: number, reason: string): VerifyResult => ({
    ok: false,
    checked: Math.min(lastSeq + 1, seq) - 1,
    firstBadSeq: seq,
    reason,
    notes,
    problem: { kind: 'entry', seq },
  });
  if (problem) return fail(problem.seq, problem.reason);

  const key = trustedKey(replayed.pinned, options, notes, checkpoints.rows.length > 0);
  const untrusted = trustFailure(db, lastSeq, checkpoints, key, trustedHeads, notes, fail);
  if (untrusted) return untrusted;
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
    head: { seq: lastSeq, hash: checked.head },
    notes,
    pinned: replayed.pinned,
    checkpoints: { count: checkpoints.rows.length, key: key?.name ?? null },
    tables: PROJECTION_TABLES.map((t) => t.table),
  };
}

/**
 * The hash chain checked in chunks on other threads (a large ledger file) while this one replays
 * and compares the projections, then takes the chunks left; the first worker also looks for a
 * row of agent_actions the chain writes and the stored table lacks. The workers read their own
 * connections: entries up to `upTo` are the same in any later snapshot of an append-only ledger,
 * and the stored rows are counted, and any table that fails searched, on this one. The replay
 * found its entries through an index, which proves nothing: it is trusted only when it replayed
 * as many as the chain holds and all went well. Otherwise it is done again from the rows
 * themselves, so that the first bad entry is named wherever the index pointed.
 */
function replayBesideChain(
  db: LedgerDb,
  replay: ProjectionReplay,
  upTo: number,
  options: VerifyOptions,
  notes: string[],
) {
  let checkpoints = new CheckpointCheck(db);
  const chain = startChainCheck(db, upTo, CHAIN_TYPES);
  let replayed = replayChain(db, upTo, replay, checkpoints, options.publicKey);
  // The other tables are compared while a worker compares agent_actions.
  const actions = () => chain.wait().actions;
  let mismatch = replayed.problem ? null : replay.compare(upTo, actions);
  const checked = chain.wait();
  if (replayed.indexed && (replayed.problem || checked.problem || replayed.replayed !== checked.replayable)) {
    if (!replayed.problem && !checked.problem) {
      notes.push(
        'warning: the index ledger_entries_type_agent does not match the entries; someone edited it (verified without it)',
      );
    }
    replay.reset();
    checkpoints = new CheckpointCheck(db);
    replayed = replayChain(db, upTo, replay, checkpoints, options.publicKey, true);
    mismatch = replayed.problem ? null : replay.compare(upTo, actions);
  }
  return { checked, replayed, mismatch, checkpoints };
}

/**
 * The first checkpoint (signed by `key`, its head in the chain, its state the chain's) or trusted
 * head that the chain up to `lastSeq` does not bear out; null when all do.
 */
function trustFailure(
  db: LedgerDb,
  lastSeq: number,
  checkpoints: CheckpointCheck,
  key: TrustedKey | null,
  trustedHeads: readonly TrustedHead[],
  notes: string[],
  fail: (seq: number, reason: string) => VerifyResult,
): VerifyResult | null {
  const heads = headCheck(db, lastSeq);
  if (checkpoints.rows.length > 0) {
    const bad = key
      ? checkpoints.problem(key, heads)
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
    const bad = heads(head.seq, head.hash, head.source);
    if (bad) return fail(bad.seq, bad.reason);
  }
  return null;
}
