import type pg from 'pg';
import { describeMismatch, type ProjectionMismatch } from '../projection-mismatch.js';
import type { ProjectionWrite } from '../projection-writes.js';
import { PROJECTION_TABLES } from '../projections.js';
import { pgProjectionColumns, pgReplayTablesDdl } from './pg-projection-schema.js';
import { runPgProjectionWrites } from './pg-projection-writes.js';

/** Verify's rebuilt tables: temporary, of its own connection, dropped when its transaction ends. */
const REPLAY = 'pg_temp.agov_replay_';

/**
 * The projection tables rebuilt from the chain by verify: temporary tables created from this
 * build's migrations (never from the stored schema), filled with the writes of this build's
 * projectors (the ones every append runs) as verify reads the chain. Use inside a transaction
 * (REPEATABLE READ, so the chain read and the stored rows are one snapshot); its end drops them.
 */
export class PgProjectionReplay {
  private constructor(private readonly client: pg.ClientBase) {}

  static async create(client: pg.ClientBase): Promise<PgProjectionReplay> {
    await client.query(pgReplayTablesDdl(REPLAY));
    return new PgProjectionReplay(client);
  }

  /** Writes the rows of a batch of entries' projections (`projectEntry`) into the replay. */
  async write(writes: readonly ProjectionWrite[]): Promise<void> {
    if (writes.length > 0) await runPgProjectionWrites(this.client, writes, REPLAY);
  }

  /** Compares the stored tables with the replay row by row, table by table in key order: the first row that differs, or null. */
  async compare(): Promise<ProjectionMismatch | null> {
    // The stored rows themselves, never an index someone could have left out of step with them.
    await this.client.query(
      'SET LOCAL enable_indexscan = off; SET LOCAL enable_indexonlyscan = off; SET LOCAL enable_bitmapscan = off',
    );
    for (const { table, key } of PROJECTION_TABLES) {
      const mismatch = await firstDifference(this.client, table, key);
      if (mismatch) return mismatch;
    }
    return null;
  }
}

async function firstDifference(
  client: pg.ClientBase,
  table: (typeof PROJECTION_TABLES)[number]['table'],
  key: readonly string[],
): Promise<ProjectionMismatch | null> {
  const columns = pgProjectionColumns(table);
  // Compared as text, byte for byte ("C"), with the built-in operator: never a type's, an
  // operator's or a collation's of someone else's choosing (verify also refuses such a table).
  const text = (side: string, c: string) => `(${side}.${c}::pg_catalog.text COLLATE "C")`;
  const on = key.map((k) => `${text('s', k)} OPERATOR(pg_catalog.=) ${text('r', k)}`).join(' AND ');
  const differs = [
    `s.${key[0]} IS NULL`,
    `r.${key[0]} IS NULL`,
    ...columns.map((c) => `${text('s', c)} IS DISTINCT FROM ${text('r', c)}`),
  ].join(' OR ');
  // Text keys in byte order, as SQLite orders them, whatever the database's collation.
  const order = key.map((k) => `coalesce(s.${k}, r.${k})${k === 'agent_id' ? ' COLLATE "C"' : ''}`);
  const { rows } = await client.query<{ stored: Row | null; replayed: Row | null }>(
    `SELECT CASE WHEN s.${key[0]} IS NULL THEN NULL ELSE to_jsonb(s) END AS stored,
            CASE WHEN r.${key[0]} IS NULL THEN NULL ELSE to_jsonb(r) END AS replayed
     FROM ${table} AS s FULL JOIN ${REPLAY}${table} AS r ON ${on}
     WHERE ${differs}
     ORDER BY ${order.join(', ')} LIMIT 1`,
  );
  const bad = rows[0];
  return bad ? describeMismatch(table, key, columns, bad.stored, bad.replayed) : null;
}

type Row = Record<string, unknown>;
