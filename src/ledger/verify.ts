import { VERIFY_MMAP_BYTES } from './chain-check.js';
import { startChainCheck } from './chain-check-thread.js';
import { CHAIN_TYPES, replayChain } from './chain-replay.js';
import { CheckpointCheck } from './checkpoint-check.js';
import { dbOf, type LedgerSource } from './ledger.js';
import type { LedgerDb } from './open-ledger-db.js';
import { ProjectionReplay } from './projection-replay.js';
import { integrityFinding, serviceIndexProblem } from './verify-indexes.js';
import { schemaProblem } from './verify-schema.js';
import {
  judgeReplay,
  schemaVerdict,
  type TrustedHead,
  type VerifyOptions,
  type VerifyResult,
} from './verify-verdict.js';

const CHAIN_TABLE = 'ledger_entries';

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
  const schema = schemaProblem(db) ?? serviceIndexProblem(db);
  if (schema) return schemaVerdict(schema.object, schema.reason, notes);
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
  const bounds = chainBounds(db, notes);
  if ('outside' in bounds) return bounds.outside;
  const { upTo } = bounds;
  const { checked, replayed, mismatch, checkpoints } = replayBesideChain(db, replay, upTo, options, notes);
  // The chain's own verdict comes first: a replay that failed on an entry the chain proves
  // tampered is reported as the tampering.
  let problem = replayed.problem;
  if (checked.problem && (!problem || checked.problem.seq <= problem.seq)) problem = checked.problem;
  // The chain's index, checked beside the chain: named when nothing more specific is wrong.
  const index =
    problem || mismatch || !checked.integrity ? null : integrityFinding(CHAIN_TABLE, checked.integrity);
  if (index) return schemaVerdict(index.object, index.reason, notes);
  const hashAt = db
    .prepare<[number], string>('SELECT hash FROM ledger_entries NOT INDEXED WHERE seq = ?')
    .pluck();
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
 * Where the chain verify walks ends: the number of rows stored (the table's key is the rowid, so
 * the sequence numbers are distinct integers), never past the highest. A row below entry 1 is
 * reported at once; a row past the last of 1..count means an entry in 1..count is missing, which
 * the chain check names: the work stays linear in the rows stored, however far a row lies.
 */
function chainBounds(db: LedgerDb, notes: string[]): { upTo: number } | { outside: VerifyResult } {
  const first = db.prepare('SELECT min(seq) FROM ledger_entries NOT INDEXED').pluck().get() as number | null;
  if (first !== null && first < 1) {
    const reason = `entry ${first} is outside the chain, which starts at entry 1: someone added a row below it`;
    const problem = { kind: 'entry' as const, seq: first };
    return { outside: { ok: false, checked: 0, firstBadSeq: first, reason, notes, problem } };
  }
  const highest = db
    .prepare("SELECT printf('%d', max(seq)) FROM ledger_entries NOT INDEXED")
    .pluck()
    .get() as string;
  const last = Number(highest);
  const count = db.prepare('SELECT count(*) FROM ledger_entries NOT INDEXED').pluck().get() as number;
  if (last > count) {
    notes.push(
      `the highest stored sequence number is ${highest} but ${count} rows are stored: entries are missing, or rows lie past the chain`,
    );
  }
  return { upTo: Math.min(last, count) };
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
