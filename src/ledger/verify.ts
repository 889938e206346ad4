import { VERIFY_MMAP_BYTES } from './chain-check.js';
import { startChainCheck } from './chain-check-thread.js';
import { CHAIN_TYPES, replayChain } from './chain-replay.js';
import { CheckpointCheck } from './checkpoint-check.js';
import { dbOf, type LedgerSource } from './ledger.js';
import type { LedgerDb } from './open-ledger-db.js';
import { ProjectionReplay } from './projection-replay.js';
import { judgeReplay, type TrustedHead, type VerifyOptions, type VerifyResult } from './verify-verdict.js';

export type { TrustedHead, VerifyOptions, VerifyProblem, VerifyResult } from './verify-verdict.js';

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
  const hashAt = db.prepare<[number], string>('SELECT hash FROM ledger_entries WHERE seq = ?').pluck();
  const found = {
    upTo,
    headHash: checked.head,
    problem,
    pinned: replayed.pinned,
    checkpoints,
    mismatch,
    hashAt: (seq: number) => hashAt.get(seq),
  };
  return judgeReplay(found, trustedHeads, options, notes);
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
  let checkpoints = CheckpointCheck.of(db);
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
    checkpoints = CheckpointCheck.of(db);
    replayed = replayChain(db, upTo, replay, checkpoints, options.publicKey, true);
    mismatch = replayed.problem ? null : replay.compare(upTo, actions);
  }
  return { checked, replayed, mismatch, checkpoints };
}
