import type pg from 'pg';
import type { DueDelivery, InboxDelivery } from '../inbox.js';
import type { InboxQueue } from '../inbox-queue.js';

interface PgInboxRow {
  delivery_id: string;
  source: 'github' | 'slack';
  event: string;
  payload: string;
  seq: string;
  attempts: number;
}

/**
 * The inbox on PostgreSQL, shared by every replica. `dueHeads` claims what it returns (`FOR UPDATE
 * SKIP LOCKED`, a lease under this queue's claimer; asking again renews what the claimer holds),
 * so two replicas never process the same delivery at once; a delivery whose claimer died is due
 * again once its lease runs out. Work groups are not coalesced here: each delivery is processed
 * on its own (a decision that would say the same again records nothing).
 */
export class PgInboxQueue implements InboxQueue {
  constructor(
    private readonly pool: pg.Pool,
    private readonly claimer: string,
    private readonly leaseMs: number,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async dueHeads(source: 'github' | 'slack', limit: number): Promise<DueDelivery[]> {
    const now = this.now();
    const { rows } = await this.pool.query<{ delivery_id: string; event: string; seq: string }>(
      `WITH due AS (
         SELECT delivery_id FROM inbox
         WHERE source = $1 AND status = 'pending' AND next_attempt_at <= $2
           AND (lease_until IS NULL OR lease_until <= $2 OR claimed_by = $3)
         ORDER BY seq LIMIT $4
         FOR UPDATE SKIP LOCKED)
       UPDATE inbox SET claimed_by = $3, lease_until = $5 FROM due WHERE inbox.delivery_id = due.delivery_id
       RETURNING inbox.delivery_id, inbox.event, inbox.seq`,
      [source, now, this.claimer, limit, new Date(now.getTime() + this.leaseMs)],
    );
    return rows
      .map((r) => ({ deliveryId: r.delivery_id, event: r.event, seq: Number(r.seq) }))
      .sort((a, b) => a.seq - b.seq);
  }

  async pullRequestOf(deliveryId: string): Promise<string | null> {
    const { rows } = await this.pool.query<{ payload: string }>(
      'SELECT payload FROM inbox WHERE delivery_id = $1',
      [deliveryId],
    );
    const payload = parse(rows[0]?.payload) as {
      repository?: { full_name?: unknown };
      pull_request?: { number?: unknown };
    } | null;
    const repository = payload?.repository?.full_name;
    const number = payload?.pull_request?.number;
    if (typeof repository !== 'string' || typeof number !== 'number') return null;
    return `${repository.toLowerCase()}#${number}`;
  }

  async take(deliveryId: string): Promise<InboxDelivery | null> {
    const { rows } = await this.pool.query<PgInboxRow>(
      `SELECT delivery_id, source, event, payload, seq, attempts FROM inbox
       WHERE delivery_id = $1 AND status = 'pending'`,
      [deliveryId],
    );
    const row = rows[0];
    if (!row) return null;
    return {
      deliveryId: row.delivery_id,
      source: row.source,
      event: row.event,
      payload: parse(row.payload),
      seq: Number(row.seq),
      attempts: row.attempts,
    };
  }

  async markDone(deliveryId: string): Promise<void> {
    await this.pool.query(
      `UPDATE inbox SET status = 'done', attempts = attempts + 1, processed_at = $1, last_error = NULL,
         claimed_by = NULL, lease_until = NULL
       WHERE delivery_id = $2 AND status = 'pending'`,
      [this.now(), deliveryId],
    );
  }

  async markRetry(deliveryId: string, error: string, nextAttemptAt: Date): Promise<void> {
    await this.pool.query(
      `UPDATE inbox SET attempts = attempts + 1, next_attempt_at = $1, last_error = $2, claimed_by = NULL, lease_until = NULL
       WHERE delivery_id = $3 AND status = 'pending'`,
      [nextAttemptAt, error.slice(0, 500), deliveryId],
    );
  }

  async markFailed(deliveryId: string, error: string): Promise<void> {
    await this.pool.query(
      `UPDATE inbox SET status = 'failed', attempts = attempts + 1, processed_at = $1, last_error = $2,
         claimed_by = NULL, lease_until = NULL
       WHERE delivery_id = $3 AND status = 'pending'`,
      [this.now(), error.slice(0, 500), deliveryId],
    );
  }

  async anyDue(source: 'github' | 'slack'): Promise<boolean> {
    const { rows } = await this.pool.query(
      `SELECT 1 FROM inbox WHERE source = $1 AND status = 'pending' AND next_attempt_at <= $2
         AND (lease_until IS NULL OR lease_until <= $2 OR claimed_by = $3) LIMIT 1`,
      [source, this.now(), this.claimer],
    );
    return rows.length > 0;
  }

  async pendingCount(source?: 'github' | 'slack'): Promise<number> {
    const { rows } = await this.pool.query<{ n: string }>(
      `SELECT COUNT(*) AS n FROM inbox WHERE status = 'pending' AND source ${source ? '= $1' : "IN ('github', 'slack')"}`,
      source ? [source] : [],
    );
    return Number(rows[0]!.n);
  }
}

function parse(text: string | undefined): unknown {
  if (text === undefined) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
