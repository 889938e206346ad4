import type pg from 'pg';
import type { ChainVerdict } from '../async-ledger.js';
import type { ChainProblem } from '../chain-check.js';
import { ChainWalk, storedEntry } from '../chain-walk.js';

export interface PgEntryRow {
  seq: string;
  ts: string;
  type: string;
  agent_id: string | null;
  actor: string;
  payload: string;
  prev_hash: string;
  hash: string;
}

/** Entries per query of the walk (and of verify's replay). */
export const PG_BATCH = 5000;

/**
 * Walks the whole chain in one snapshot, a batch at a time, with the hash of every engine; then
 * checks the head row against the last entry (a tail cut off, or rows added behind the trigger's back).
 */
export async function checkPgChain(client: pg.ClientBase): Promise<ChainVerdict> {
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    return await walkPgChain(client);
  } finally {
    await client.query('COMMIT');
  }
}

/** The chain check of `checkPgChain`, in the caller's transaction (one snapshot for every read). */
export async function walkPgChain(client: pg.ClientBase): Promise<ChainVerdict> {
  const walk = new ChainWalk();
  for (let after = 0; ; ) {
    const { rows } = await client.query<PgEntryRow>(
      'SELECT * FROM ledger_entries WHERE seq > $1 ORDER BY seq LIMIT $2',
      [after, PG_BATCH],
    );
    for (const row of rows) {
      const problem = walk.next(storedEntry(row));
      if (problem)
        return { ok: false, checked: walk.checked, firstBadSeq: problem.seq, reason: problem.reason };
    }
    if (rows.length < PG_BATCH) break;
    after = Number(rows.at(-1)!.seq);
  }
  return compareHead(client, walk);
}

async function compareHead(client: pg.ClientBase, walk: ChainWalk): Promise<ChainVerdict> {
  const last = walk.checked;
  const problem = await headRowProblem(client, last, walk.prevHash);
  if (!problem) return { ok: true, checked: last, head: { seq: last, hash: walk.prevHash } };
  return { ok: false, checked: problem.seq - 1, firstBadSeq: problem.seq, reason: problem.reason };
}

/**
 * The head row against the last entry of a chain that verified up to `last` (hash `lastHash`): a
 * tail cut off, an entry replaced or rows added behind the trigger's back; null when they agree.
 */
export async function headRowProblem(
  client: pg.ClientBase,
  last: number,
  lastHash: string,
): Promise<ChainProblem | null> {
  const { rows } = await client.query<{ seq: string; hash: string }>(
    'SELECT seq, hash FROM ledger_head WHERE id = 1',
  );
  const recorded = { seq: Number(rows[0]?.seq ?? 0), hash: rows[0]?.hash ?? '' };
  if (recorded.seq > last) {
    return { seq: last + 1, reason: `entry ${last + 1} is missing (the chain ends at ${last})` };
  }
  if (recorded.seq === last && recorded.hash !== lastHash) {
    return {
      seq: last,
      reason: `entry ${last} is not the entry the head row recorded (replaced behind the chain trigger)`,
    };
  }
  if (recorded.seq < last) {
    const seq = recorded.seq + 1;
    return {
      seq,
      reason: `entry ${seq} was added past the recorded head ${recorded.seq} (rows inserted behind the chain trigger)`,
    };
  }
  return null;
}
