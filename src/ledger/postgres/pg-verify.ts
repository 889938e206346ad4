import type pg from 'pg';
import { LEDGER_ENTRY_TYPES } from '../../core/ledger-entries.js';
import type { ChainProblem } from '../chain-check.js';
import { ChainFold } from '../chain-fold.js';
import { ChainWalk, storedEntry } from '../chain-walk.js';
import { CheckpointCheck } from '../checkpoint-check.js';
import { rowToEntry } from '../ledger.js';
import type { ProjectionWrite } from '../projection-writes.js';
import { projectEntry } from '../projections.js';
import {
  judgeReplay,
  schemaVerdict,
  type TrustedHead,
  type VerifyOptions,
  type VerifyResult,
} from '../verify-verdict.js';
import { headRowProblem, PG_BATCH, type PgEntryRow } from './pg-chain-check.js';
import { pgCheckpointRows } from './pg-checkpoints.js';
import { PgProjectionReplay } from './pg-projection-check.js';
import { pgSchemaProblem, pinSearchPath } from './pg-verify-schema.js';

const KNOWN_TYPES = new Set<string>(LEDGER_ENTRY_TYPES);
/** The triggers that keep the chain append-only and its head row in step (pg-migrations.ts). */
const CHAIN_TRIGGERS = [
  'ledger_entries_no_update',
  'ledger_entries_no_delete',
  'ledger_entries_no_truncate',
  'ledger_entries_chained',
];

/**
 * `agov ledger verify` on PostgreSQL, as on SQLite, in one snapshot (REPEATABLE READ; never
 * committed: the replay's temporary tables go with the rollback). One pass over the rows checks
 * each entry's hash, link and type, takes the pinned key and folds the state for the checkpoints
 * (`ChainFold`, SQLite's own) and rebuilds the projections (`projectEntry`); then the head row,
 * the checkpoints and trusted heads (`judgeReplay`, SQLite's own) and the projection tables.
 */
export async function verifyPgLedger(
  client: pg.ClientBase,
  trustedHeads: readonly TrustedHead[] = [],
  options: VerifyOptions = {},
): Promise<VerifyResult> {
  // READ WRITE for the replay's temporary tables alone, even on a connection read-only by default
  // (`serve --read-only`): the transaction is always rolled back, so nothing it does stays.
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ WRITE');
  try {
    await pinSearchPath(client);
    const schema = await pgSchemaProblem(client);
    if (schema) return schemaVerdict(schema.object, schema.reason, []);
    const notes = await triggerNotes(client);
    const outside = await rowBelowChain(client, notes);
    if (outside) return outside;
    const checkpoints = new CheckpointCheck(await pgCheckpointRows(client));
    const fold = new ChainFold(checkpoints, options.publicKey);
    const replay = await PgProjectionReplay.create(client);
    const walk = new ChainWalk();
    let problem = await replayRows(client, walk, fold, replay);
    problem ??= await headRowProblem(client, walk.checked, walk.prevHash);
    const upTo = walk.checked;
    fold.end(upTo);
    const mismatch = problem ? null : await replay.compare();
    const hashes = await hashesAt(client, [
      ...checkpoints.rows.map((c) => c.head_seq),
      ...trustedHeads.map((h) => h.seq),
    ]);
    const found = {
      upTo,
      headHash: walk.prevHash,
      problem,
      pinned: fold.pinned,
      checkpoints,
      mismatch,
      hashAt: (seq: number) => hashes.get(seq),
    };
    return judgeReplay(found, trustedHeads, options, notes);
  } finally {
    await client.query('ROLLBACK');
  }
}

/** Every row in sequence order, a batch at a time: the first entry that is not as written, or null. */
async function replayRows(
  client: pg.ClientBase,
  walk: ChainWalk,
  fold: ChainFold,
  replay: PgProjectionReplay,
): Promise<ChainProblem | null> {
  for (let after = 0; ; ) {
    const { rows } = await client.query<PgEntryRow>(
      'SELECT * FROM ledger_entries WHERE seq > $1 ORDER BY seq LIMIT $2',
      [after, PG_BATCH],
    );
    const writes: ProjectionWrite[] = [];
    for (const row of rows) {
      const problem = walk.next(storedEntry(row)) ?? replayOne(row, fold, writes);
      if (problem) return problem;
    }
    await replay.write(writes);
    if (rows.length < PG_BATCH) return null;
    after = Number(rows.at(-1)!.seq);
  }
}

/** One entry whose hash and link verified: its type known, its pin and state folded, its rows projected. */
function replayOne(row: PgEntryRow, fold: ChainFold, writes: ProjectionWrite[]): ChainProblem | null {
  const seq = Number(row.seq);
  if (!KNOWN_TYPES.has(row.type)) return { seq, reason: `entry ${seq} has an unknown type "${row.type}"` };
  try {
    const entry = rowToEntry({ ...row, seq });
    const bad = fold.take(entry);
    if (bad) return { seq, reason: bad };
    writes.push(...projectEntry(entry));
    return null;
  } catch (error) {
    return { seq, reason: `entry ${seq} cannot be replayed: ${(error as Error).message}` };
  }
}

/** A row below entry 1: never part of the chain the walk reads (from 1 up), named before it. */
async function rowBelowChain(client: pg.ClientBase, notes: string[]): Promise<VerifyResult | null> {
  const { rows } = await client.query<{ seq: string | null }>(
    'SELECT min(seq)::text AS seq FROM ledger_entries',
  );
  const first = rows[0]?.seq == null ? null : Number(rows[0].seq);
  if (first === null || first >= 1) return null;
  const reason = `entry ${first} is outside the chain, which starts at entry 1: someone added a row below it`;
  return { ok: false, checked: 0, firstBadSeq: first, reason, notes, problem: { kind: 'entry', seq: first } };
}

async function hashesAt(client: pg.ClientBase, seqs: number[]): Promise<Map<number, string>> {
  const { rows } = await client.query<{ seq: string; hash: string }>(
    'SELECT seq, hash FROM ledger_entries WHERE seq = ANY($1::bigint[])',
    [[...new Set(seqs)]],
  );
  return new Map(rows.map((r) => [Number(r.seq), r.hash]));
}

/**
 * A warning when someone dropped or disabled the triggers that keep the chain append-only: a
 * trigger fires in an ordinary session only when enabled as 'O' ('R', replica, and 'A' fire
 * elsewhere or always: 'A' is reported too, for the migrations never set it).
 */
async function triggerNotes(client: pg.ClientBase): Promise<string[]> {
  const { rows } = await client.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_trigger
     WHERE tgrelid = 'ledger_entries'::regclass AND tgname = ANY($1) AND tgenabled = 'O'`,
    [CHAIN_TRIGGERS],
  );
  // Set for the database or a role (ALTER DATABASE … SET session_replication_role = replica),
  // every session skips ordinary triggers: the append-only guards then stop nobody.
  const role = await client.query<{ role: string }>(
    "SELECT current_setting('session_replication_role') AS role",
  );
  const mode = role.rows[0]!.role;
  return [
    ...(rows[0]!.n < CHAIN_TRIGGERS.length
      ? [
          'warning: the append-only triggers of ledger_entries are missing or disabled; someone dropped or disabled them',
        ]
      : []),
    ...(mode !== 'origin'
      ? [
          `warning: session_replication_role is ${mode} for this database or role, so the append-only triggers of ledger_entries do not fire; someone set it (ALTER DATABASE or ALTER ROLE … SET)`,
        ]
      : []),
  ];
}
