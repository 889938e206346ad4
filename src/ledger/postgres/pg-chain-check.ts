import type pg from 'pg';
import type { ChainVerdict } from '../async-ledger.js';
import { ChainWalk } from '../chain-walk.js';

interface PgEntryRow {
  seq: string;
  ts: string;
  type: string;
  agent_id: string | null;
  actor: string;
  payload: string;
  prev_hash: string;
  hash: string;
}

const BATCH = 5000;

/**
 * Walks the whole chain in one snapshot, a batch at a time, with the hash of every engine; then
 * checks the head row against the last entry (a tail cut off, or rows added behind the trigger's back).
 */
export async function checkPgChain(client: pg.ClientBase): Promise<ChainVerdict> {
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    const walk = new ChainWalk();
    for (let after = 0; ; ) {
      const { rows } = await client.query<PgEntryRow>(
        'SELECT * FROM ledger_entries WHERE seq > $1 ORDER BY seq LIMIT $2',
        [after, BATCH],
      );
      for (const row of rows) {
        const problem = walk.next(storedEntry(row));
        if (problem)
          return { ok: false, checked: walk.checked, firstBadSeq: problem.seq, reason: problem.reason };
      }
      if (rows.length < BATCH) break;
      after = Number(rows.at(-1)!.seq);
    }
    return await compareHead(client, walk);
  } finally {
    await client.query('COMMIT');
  }
}

async function compareHead(client: pg.ClientBase, walk: ChainWalk): Promise<ChainVerdict> {
  const { rows } = await client.query<{ seq: string; hash: string }>(
    'SELECT seq, hash FROM ledger_head WHERE id = 1',
  );
  const recorded = { seq: Number(rows[0]?.seq ?? 0), hash: rows[0]?.hash ?? '' };
  const last = walk.checked;
  if (recorded.seq > last) {
    const seq = last + 1;
    return {
      ok: false,
      checked: last,
      firstBadSeq: seq,
      reason: `entry ${seq} is missing (the chain ends at ${last})`,
    };
  }
  if (recorded.seq === last && recorded.hash !== walk.prevHash) {
    return {
      ok: false,
      checked: last - 1,
      firstBadSeq: last,
      reason: `entry ${last} is not the entry the head row recorded (replaced behind the chain trigger)`,
    };
  }
  if (recorded.seq < last) {
    const seq = recorded.seq + 1;
    return {
      ok: false,
      checked: recorded.seq,
      firstBadSeq: seq,
      reason: `entry ${seq} was added past the recorded head ${recorded.seq} (rows inserted behind the chain trigger)`,
    };
  }
  return { ok: true, checked: last, head: { seq: last, hash: walk.prevHash } };
}

function storedEntry(row: PgEntryRow) {
  return {
    seq: Number(row.seq),
    ts: row.ts,
    type: row.type,
    agentId: row.agent_id,
    actor: row.actor,
    payload: row.payload,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}
