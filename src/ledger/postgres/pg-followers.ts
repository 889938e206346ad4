import type pg from 'pg';
import type { FollowerHandler, FollowerPositions } from '../async-ledger.js';
import { type EntryRow, rowToEntry } from '../ledger.js';
import { insertOutbox } from './pg-append.js';

/**
 * Follower positions on PostgreSQL. A step takes the position row `FOR UPDATE SKIP LOCKED`, so
 * one replica at a time follows a given follower and the others skip it; an advance from outside
 * a step is a compare-and-set.
 */
export class PgFollowerPositions implements FollowerPositions {
  constructor(
    private readonly pool: pg.Pool,
    private readonly now: () => Date,
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

  async step(name: string, handle: FollowerHandler, limit = 200): Promise<number> {
    await this.pool.query(
      'INSERT INTO follower_positions (name, seq) VALUES ($1, 0) ON CONFLICT (name) DO NOTHING',
      [name],
    );
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      try {
        const handled = await stepLocked(client, name, handle, limit, this.now());
        await client.query('COMMIT');
        return handled;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      }
    } finally {
      client.release();
    }
  }
}

async function stepLocked(
  client: pg.ClientBase,
  name: string,
  handle: FollowerHandler,
  limit: number,
  now: Date,
): Promise<number> {
  const held = await client.query<{ seq: string }>(
    'SELECT seq FROM follower_positions WHERE name = $1 FOR UPDATE SKIP LOCKED',
    [name],
  );
  if (!held.rows[0]) return 0;
  const { rows } = await client.query<EntryRow & { seq: string }>(
    'SELECT * FROM ledger_entries WHERE seq > $1 ORDER BY seq LIMIT $2',
    [Number(held.rows[0].seq), limit],
  );
  const entries = rows.map((row) => rowToEntry({ ...row, seq: Number(row.seq) }));
  const last = entries.at(-1);
  if (!last) return 0;
  const work = entries.flatMap((entry) => handle(entry).map((message) => ({ seq: entry.seq, message })));
  await insertOutbox(client, work, now);
  await client.query('UPDATE follower_positions SET seq = $2 WHERE name = $1', [name, last.seq]);
  return entries.length;
}
