import type pg from 'pg';
import type { AsyncLedger, FollowerHandler, FollowerPositions, FollowerStep } from '../async-ledger.js';
import { followerStep } from '../follower-step.js';

/**
 * Follower positions on PostgreSQL. A step moves the position in its decided append (which holds
 * the head row, so two replicas' steps take turns, and the later one finds the position moved);
 * an advance from outside a step is a compare-and-set.
 */
export class PgFollowerPositions implements FollowerPositions {
  constructor(
    private readonly pool: pg.Pool,
    private readonly ledger: AsyncLedger,
  ) {}

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

  step(name: string, handle: FollowerHandler, limit = 200): Promise<FollowerStep> {
    return followerStep(this.ledger, name, handle, limit);
  }
}
