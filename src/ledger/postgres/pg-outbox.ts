import type pg from 'pg';
import type { AsyncOutbox, OutboxClaimOptions } from '../async-ledger.js';
import {
  laneEnd,
  type OutboxMessage,
  type OutboxMessageInput,
  type OutboxTarget,
  UNREADABLE_PAYLOAD,
} from '../outbox.js';

interface PgOutboxRow {
  id: string;
  seq: string;
  target: OutboxTarget;
  kind: string;
  idempotency_key: string;
  ordering_key: string;
  payload: string;
  status: OutboxMessage['status'];
  attempts: number;
  next_attempt_at: Date;
  last_error: string | null;
}

/**
 * The outbox on PostgreSQL, shared by every replica: a claim locks the due rows it takes with
 * `FOR UPDATE SKIP LOCKED` (two claimers never wait on, nor take, the same row) and marks them
 * with the claimer and a lease; only the holder completes or retries a message, and a message
 * whose lease has run out (its claimer died) is claimable again.
 */
export class PgOutbox implements AsyncOutbox {
  constructor(
    private readonly pool: pg.Pool,
    private readonly now: () => Date,
  ) {}

  async claim(target: OutboxTarget, options: OutboxClaimOptions): Promise<OutboxMessage[]> {
    const now = this.now();
    const until = new Date(now.getTime() + options.leaseMs);
    const { lane } = options;
    // A key range in code point order (as SQLite compares), never LIKE: a prefix may hold % or _.
    const inLane = `(o.ordering_key COLLATE "C" >= $6 AND o.ordering_key COLLATE "C" < $7)`;
    const laneFilter = !lane ? '' : lane.inside ? `AND ${inLane}` : `AND NOT ${inLane}`;
    const { rows } = await this.pool.query<PgOutboxRow>(
      `WITH due AS (
         SELECT o.id FROM outbox o
         WHERE o.status = 'pending' AND o.target = $1 AND o.next_attempt_at <= $2
           AND (o.lease_until IS NULL OR o.lease_until <= $2) ${laneFilter}
           AND NOT EXISTS (
             SELECT 1 FROM outbox e
             WHERE e.status = 'pending' AND e.target = o.target AND e.ordering_key = o.ordering_key AND e.id < o.id)
         ORDER BY o.id LIMIT $3
         FOR UPDATE SKIP LOCKED)
       UPDATE outbox SET claimed_by = $4, lease_until = $5 FROM due WHERE outbox.id = due.id
       RETURNING outbox.*`,
      [
        target,
        now,
        options.limit ?? 50,
        options.claimer,
        until,
        ...(lane ? [lane.prefix, laneEnd(lane.prefix)] : []),
      ],
    );
    return rows.map(rowToMessage).sort((a, b) => a.id - b.id);
  }

  async complete(id: number, claimer: string, also: readonly number[] = []): Promise<boolean> {
    // One statement: the message if this claimer holds it, and what it stood for only then.
    const result = await this.pool.query<{ id: string }>(
      `WITH mine AS (
         UPDATE outbox SET status = 'delivered', attempts = attempts + 1, delivered_at = $1, last_error = NULL,
           claimed_by = NULL, lease_until = NULL
         WHERE id = $2 AND status = 'pending' AND claimed_by = $3
         RETURNING id),
       also AS (
         UPDATE outbox SET status = 'delivered', attempts = attempts + 1, delivered_at = $1, last_error = NULL,
           claimed_by = NULL, lease_until = NULL
         WHERE id = ANY($4::bigint[]) AND status = 'pending' AND EXISTS (SELECT 1 FROM mine))
       SELECT id FROM mine`,
      [this.now(), id, claimer, [...also]],
    );
    return result.rowCount === 1;
  }

  async release(claimer: string, ids?: readonly number[]): Promise<number> {
    const result = await this.pool.query(
      `UPDATE outbox SET claimed_by = NULL, lease_until = NULL WHERE status = 'pending' AND claimed_by = $1
       ${ids ? 'AND id = ANY($2::bigint[])' : ''}`,
      ids ? [claimer, [...ids]] : [claimer],
    );
    return result.rowCount ?? 0;
  }

  async fail(id: number, claimer: string, error: string): Promise<boolean> {
    const result = await this.pool.query(
      `UPDATE outbox SET status = 'failed', attempts = attempts + 1, last_error = $1,
         claimed_by = NULL, lease_until = NULL
       WHERE id = $2 AND status = 'pending' AND claimed_by = $3`,
      [error.slice(0, 500), id, claimer],
    );
    return result.rowCount === 1;
  }

  async anyDue(target: OutboxTarget): Promise<boolean> {
    const { rows } = await this.pool.query(
      `SELECT 1 FROM outbox o WHERE o.status = 'pending' AND o.target = $1 AND o.next_attempt_at <= $2
         AND (o.lease_until IS NULL OR o.lease_until <= $2)
         AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.status = 'pending' AND e.target = o.target
                         AND e.ordering_key = o.ordering_key AND e.id < o.id)
       LIMIT 1`,
      [target, this.now()],
    );
    return rows.length > 0;
  }

  async pendingWith(target: OutboxTarget, orderingKey: string): Promise<OutboxMessage[]> {
    const { rows } = await this.pool.query<PgOutboxRow>(
      "SELECT * FROM outbox WHERE status = 'pending' AND target = $1 AND ordering_key = $2 ORDER BY id",
      [target, orderingKey],
    );
    return rows.map(rowToMessage);
  }

  async lastDeliveredAt(target: OutboxTarget, orderingKey: string): Promise<string | null> {
    const { rows } = await this.pool.query<{ at: Date | null }>(
      "SELECT MAX(delivered_at) AS at FROM outbox WHERE target = $1 AND status = 'delivered' AND ordering_key = $2",
      [target, orderingKey],
    );
    return rows[0]?.at ? rows[0].at.toISOString() : null;
  }

  async pendingCount(target?: OutboxTarget): Promise<number> {
    const { rows } = await this.pool.query<{ n: string }>(
      `SELECT COUNT(*) AS n FROM outbox WHERE status = 'pending' ${target ? 'AND target = $1' : ''}`,
      target ? [target] : [],
    );
    return Number(rows[0]!.n);
  }

  async retry(id: number, claimer: string, error: string, nextAttemptAt: Date): Promise<boolean> {
    const result = await this.pool.query(
      `UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $1, last_error = $2,
         claimed_by = NULL, lease_until = NULL
       WHERE id = $3 AND status = 'pending' AND claimed_by = $4`,
      [nextAttemptAt, error.slice(0, 500), id, claimer],
    );
    return result.rowCount === 1;
  }

  async enqueueUncaused(message: OutboxMessageInput): Promise<void> {
    const at = this.now();
    await this.pool.query(
      `INSERT INTO outbox (seq, target, kind, idempotency_key, ordering_key, payload, next_attempt_at, created_at)
       VALUES (0, $1, $2, $3, $4, $5, $6, $7) ON CONFLICT (idempotency_key) DO NOTHING`,
      [
        message.target,
        message.kind,
        message.idempotencyKey,
        message.orderingKey,
        JSON.stringify(message.payload),
        message.notBefore ?? at,
        at,
      ],
    );
  }

  async forEntry(seq: number): Promise<OutboxMessage[]> {
    const { rows } = await this.pool.query<PgOutboxRow>('SELECT * FROM outbox WHERE seq = $1 ORDER BY id', [
      seq,
    ]);
    return rows.map(rowToMessage);
  }
}

function rowToMessage(row: PgOutboxRow): OutboxMessage {
  return {
    id: Number(row.id),
    seq: Number(row.seq),
    target: row.target,
    kind: row.kind,
    idempotencyKey: row.idempotency_key,
    orderingKey: row.ordering_key,
    payload: parsePayload(row.payload),
    status: row.status,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at.toISOString(),
    lastError: row.last_error,
  };
}

function parsePayload(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return UNREADABLE_PAYLOAD;
  }
}
