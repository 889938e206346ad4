import type pg from 'pg';

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

  async withdraw(id: string): Promise<void> {
    await this.pool.query('DELETE FROM replicas WHERE id = $1', [id]);
  }
}
