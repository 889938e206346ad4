import type pg from 'pg';
import type { LeaseResult } from '../../state/state-store.js';

/** A replica as the others on the same PostgreSQL ledger see it. */
export interface AnnouncedReplica {
  id: string;
  host: string;
  pid: number;
  startedAt: string;
  /** Whether its locks, rate limits and revocation signals live in a shared store (REDIS_URL). */
  sharedState: boolean;
}

/**
 * The replicas serving one PostgreSQL ledger, announced in it (table `replicas`, migration 9) and
 * renewed while they run: what a replica without a shared state store checks before it starts.
 * Their periodic-work lease lives here too (table `leases`, migration 10), as durable as the
 * ledger: a state store that restarts empty cannot hand it to a second replica.
 */
export class PgReplicas {
  constructor(
    private readonly pool: pg.Pool,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Announces (or renews) `me` for `ttlMs`. */
  async announce(me: AnnouncedReplica, ttlMs: number): Promise<void> {
    await this.pool.query(
      `INSERT INTO replicas (id, host, pid, started_at, shared_state, seen_until) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (id) DO UPDATE SET host = excluded.host, pid = excluded.pid, started_at = excluded.started_at,
         shared_state = excluded.shared_state, seen_until = excluded.seen_until`,
      [me.id, me.host, me.pid, me.startedAt, me.sharedState, new Date(this.now().getTime() + ttlMs)],
    );
  }

  /** The other replicas whose announcement has not run out. */
  async others(id: string): Promise<AnnouncedReplica[]> {
    const { rows } = await this.pool.query<{
      id: string;
      host: string;
      pid: number;
      started_at: string;
      shared_state: boolean;
    }>('SELECT id, host, pid, started_at, shared_state FROM replicas WHERE id <> $1 AND seen_until > $2', [
      id,
      this.now(),
    ]);
    return rows.map((r) => ({
      id: r.id,
      host: r.host,
      pid: r.pid,
      startedAt: r.started_at,
      sharedState: r.shared_state,
    }));
  }

  /**
   * Takes or renews lease `name` for `owner` until `ttlMs` from now, if nobody else holds it. The
   * fence grows by one at every change of holder (and when the owner's own lease had run out).
   */
  async acquireLease(name: string, owner: string, ttlMs: number): Promise<LeaseResult> {
    const now = this.now();
    const until = new Date(now.getTime() + ttlMs);
    const { rows } = await this.pool.query<{ fence: string }>(
      `INSERT INTO leases (name, holder, fence, expires_at) VALUES ($1, $2, 1, $4)
       ON CONFLICT (name) DO UPDATE SET
         fence = CASE WHEN leases.holder = excluded.holder AND leases.expires_at > $3
                      THEN leases.fence ELSE leases.fence + 1 END,
         holder = excluded.holder, expires_at = excluded.expires_at
       WHERE leases.holder = excluded.holder OR leases.expires_at <= $3
       RETURNING fence`,
      [name, owner, now, until],
    );
    if (rows[0]) return { held: true, fence: Number(rows[0].fence), expiresAt: until.getTime() };
    const held = await this.pool.query<{ holder: string; expires_at: Date }>(
      'SELECT holder, expires_at FROM leases WHERE name = $1',
      [name],
    );
    // Taken by another replica between the two statements, or given up: the next renewal tells.
    const other = held.rows[0] ?? { holder: '', expires_at: now };
    return { held: false, holder: other.holder, expiresAt: Number(other.expires_at) };
  }

  /**
   * Gives lease `name` up at once, only if `owner` holds it. The row stays, run out, so that the
   * next holder's fence is still one more.
   */
  async releaseLease(name: string, owner: string): Promise<void> {
    await this.pool.query(`UPDATE leases SET expires_at = '-infinity' WHERE name = $1 AND holder = $2`, [
      name,
      owner,
    ]);
  }

  async withdraw(id: string): Promise<void> {
    await this.pool.query('DELETE FROM replicas WHERE id = $1', [id]);
  }
}
