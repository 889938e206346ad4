import type pg from 'pg';
import type { FollowerPositions } from '../async-ledger.js';

/** Follower positions on PostgreSQL: an advance is a compare-and-set, so one replica wins it. */
export class PgFollowerPositions implements FollowerPositions {
  constructor(private readonly pool: pg.Pool) {}

  async position(name: string): Promise<number> {
    const { rows } = await this.pool.query<{ seq: string }>(
      'SELECT seq FROM follower_positions WHERE name = $1',
      [name],
    );
    return rows[0] ? Number(rows[0].seq) : 0;
  }

  async advance(name: string, from: number, to: number): Promise<boolean> {
    // A follower with no row is at 0: only an advance from 0 may create it.
    const result =
      from === 0
        ? await this.pool.query(
            `INSERT INTO follower_positions (name, seq) VALUES ($1, $2)
             ON CONFLICT (name) DO UPDATE SET seq = excluded.seq WHERE follower_positions.seq = 0`,
            [name, to],
          )
        : await this.pool.query('UPDATE follower_positions SET seq = $2 WHERE name = $1 AND seq = $3', [
            name,
            to,
            from,
          ]);
    return result.rowCount === 1;
  }
}
