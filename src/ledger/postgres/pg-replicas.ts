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
  /**
   * Every time here is the database's (`now()`), never a replica's own clock: a replica whose clock
   * runs ahead would otherwise see the others' announcements and leases as run out.
   */
  constructor(private readonly pool: pg.Pool) {}

  /** Announces (or renews) `me` for `ttlMs`. */
  async announce(me: AnnouncedReplica, ttlMs: number): Promise<void> {
    await this.pool.query(
      `INSERT INTO replicas (id, host, pid, started_at, shared_state, seen_until)
       VALUES ($1, $2, $3, $4, $5, now() + $6 * interval '1 millisecond')
       ON CONFLICT (id) DO UPDATE SET host = excluded.host, pid = excluded.pid, started_at = excluded.started_at,
         shared_state = excluded.shared_state, seen_until = excluded.seen_until`,
      [me.id, me.host, me.pid, me.startedAt, me.sharedState, Math.round(ttlMs)],
    );
  }

  /**
   * Who announced `id` last, if that has not run out: another process under the same name (the
   * same host name and PORT) shows here with its own pid and start. `seenUntil` tells whether it
   * was renewed between two looks.
   */
  async announcedAs(id: string): Promise<(AnnouncedReplica & { seenUntil: string }) | null> {
    const { rows } = await this.pool.query<{
      host: string;
      pid: number;
      started_at: string;
      shared_state: boolean;
      seen_until: string;
    }>(
      'SELECT host, pid, started_at, shared_state, seen_until::text AS seen_until FROM replicas WHERE id = $1 AND seen_until > now()',
      [id],
    );
    const r = rows[0];
    return r
      ? {
          id,
          host: r.host,
          pid: r.pid,
          startedAt: r.started_at,
          sharedState: r.shared_state,
          seenUntil: r.seen_until,
        }
      : null;
  }

  /** The other replicas whose announcement has not run out. */
  async others(id: string): Promise<AnnouncedReplica[]> {
    const { rows } = await this.pool.query<{
      id: string;
      host: string;
      pid: number;
      started_at: string;
      shared_state: boolean;
    }>('SELECT id, host, pid, started_at, shared_state FROM replicas WHERE id <> $1 AND seen_until > now()', [
      id,
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
   * Takes or renews lease `name` for `owner` for `ttlMs`, if nobody else holds it. The fence grows
   * by one at every change of holder (and when the owner's own lease had run out). `expiresAt` is
   * on this process's clock: now, plus what the database says is left.
   */
  async acquireLease(name: string, owner: string, ttlMs: number): Promise<LeaseResult> {
    const asked = Date.now();
    const { rows } = await this.pool.query<{ fence: string }>(
      `INSERT INTO leases (name, holder, fence, expires_at) VALUES ($1, $2, 1, now() + $3 * interval '1 millisecond')
       ON CONFLICT (name) DO UPDATE SET
         fence = CASE WHEN leases.holder = excluded.holder AND leases.expires_at > now()
                      THEN leases.fence ELSE leases.fence + 1 END,
         holder = excluded.holder, expires_at = excluded.expires_at
       WHERE leases.holder = excluded.holder OR leases.expires_at <= now()
       RETURNING fence`,
      [name, owner, Math.round(ttlMs)],
    );
    // Counted from before the request: the lease may have started a little earlier, never later.
    if (rows[0]) return { held: true, fence: Number(rows[0].fence), expiresAt: asked + ttlMs };
    const held = await this.pool.query<{ holder: string; left_ms: string }>(
      `SELECT holder, CASE WHEN expires_at <= now() THEN 0
                          ELSE (EXTRACT(EPOCH FROM (expires_at - now())) * 1000)::bigint END AS left_ms
         FROM leases WHERE name = $1`,
      [name],
    );
    // Taken by another replica between the two statements, or given up: the next renewal tells.
    const other = held.rows[0] ?? { holder: '', left_ms: '0' };
    return { held: false, holder: other.holder, expiresAt: Date.now() + Number(other.left_ms) };
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
