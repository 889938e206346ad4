/**
 * Verify's verdict, one for both engines: the replay's findings (the chain's first problem, the
 * pinned key, the checkpoints folded against the chain, the first projection row that differs)
 * judged against the keys and heads the verifier trusts, in one order.
 */
import type { LedgerVerdict } from './async-ledger.js';
import type { ChainProblem } from './chain-check.js';
import type { CheckpointCheck } from './checkpoint-check.js';
import type { PinnedKey } from './pinned-key.js';
import type { ProjectionMismatch } from './projection-mismatch.js';
import { PROJECTION_TABLES } from './projections.js';
import { type HashAt, headCheck, trustedKey, trustProblem } from './verify-trust.js';

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
  | { kind: 'projection'; table: string; key: string }
  /** A schema object that lets reads disagree with the rows, or a verified table verify cannot read. */
  | { kind: 'schema'; object: string };

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

/** What one replay of the chain found, whichever engine read it. */
export interface ReplayFindings {
  /** The last sequence number in the chain (its head row's on PostgreSQL, if later). */
  upTo: number;
  /** The hash of the last entry that verified. */
  headHash: string;
  /** The first entry the chain check or the replay could not take, the lower sequence number first. */
  problem: ChainProblem | null;
  pinned: PinnedKey | null;
  checkpoints: CheckpointCheck;
  /** The first projection row that differs from the replay (looked for only when `problem` is null). */
  mismatch: ProjectionMismatch | null;
  /** Stored hashes, for the heads of the checkpoints and the trusted heads. */
  hashAt: HashAt;
}

/**
 * The verdict: the first bad entry; else the first checkpoint or trusted head the chain does not
 * bear out; else the first projection row that differs; else ok.
 */
export function judgeReplay(
  found: ReplayFindings,
  trustedHeads: readonly TrustedHead[],
  options: VerifyOptions,
  notes: string[],
): VerifyResult {
  const { problem, checkpoints, mismatch } = found;
  const lastSeq = (problem ? problem.seq : found.upTo + 1) - 1;
  const fail = (seq: number, reason: string): VerifyResult => ({
    ok: false,
    checked: Math.min(lastSeq + 1, seq) - 1,
    firstBadSeq: seq,
    reason,
    notes,
    problem: { kind: 'entry', seq },
  });
  if (problem) return fail(problem.seq, problem.reason);

  const key = trustedKey(found.pinned, options, notes, checkpoints.rows.length > 0);
  const heads = headCheck(found.hashAt, lastSeq);
  const untrusted = trustProblem(checkpoints, key, trustedHeads, heads, notes);
  if (untrusted?.seq === null) {
    const kind = { kind: 'checkpoint' as const, checkpointId: untrusted.checkpointId };
    return { ok: false, checked: lastSeq, firstBadSeq: 0, reason: untrusted.reason, notes, problem: kind };
  }
  if (untrusted) return fail(untrusted.seq, untrusted.reason);
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
    head: { seq: lastSeq, hash: found.headHash },
    notes,
    pinned: found.pinned,
    checkpoints: { count: checkpoints.rows.length, key: key?.name ?? null },
    tables: PROJECTION_TABLES.map((t) => t.table),
  };
}

/** The verdict on a ledger whose schema verify refuses to read (`schemaProblem`). */
export function schemaVerdict(
  object: string,
  reason: string,
  notes: string[],
): Extract<VerifyResult, { ok: false }> {
  return { ok: false, checked: 0, firstBadSeq: 0, reason, notes, problem: { kind: 'schema', object } };
}

/** The verdict as the asynchronous ledger interface gives it (`AsyncLedger.verify`). */
export function ledgerVerdictOf(result: VerifyResult): LedgerVerdict {
  if (result.ok) return { ok: true, checked: result.checked, head: result.head, tables: result.tables };
  const { checked, firstBadSeq, reason, problem } = result;
  if (problem.kind !== 'projection') return { ok: false, checked, firstBadSeq, reason };
  return { ok: false, checked, firstBadSeq, reason, projection: { table: problem.table, key: problem.key } };
}
