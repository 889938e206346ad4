import type pg from 'pg';
import { type EntryRow, rowToEntry } from '../ledger.js';
import { describeMismatch, type ProjectionMismatch } from '../projection-mismatch.js';
import { PROJECTION_TABLES, projectEntry } from '../projections.js';
import { pgProjectionColumns, pgReplayTablesDdl } from './pg-projection-schema.js';
import { runPgProjectionWrites } from './pg-projection-writes.js';

/** Verify's rebuilt tables: temporary, of its own connection, dropped when its transaction ends. */
const REPLAY = 'pg_temp.agov_replay_';
const BATCH = 5000;

/**
 * Rebuilds the projection tables from the chain up to `upTo` with this build's projectors (the
 * ones every append runs), into temporary tables created from this build's migrations, then
 * compares them with the stored tables row by row, table by table in key order: the first row that
 * differs, or null. Call inside a transaction (REPEATABLE READ, so the chain read and the stored
 * rows are one snapshot); its end drops the replay.
 */
export async function checkPgProjections(
  client: pg.ClientBase,
  upTo: number,
): Promise<ProjectionMismatch | null> {
  await client.query(pgReplayTablesDdl(REPLAY));
  for (let after = 0; after < upTo; ) {
    const { rows } = await client.query<EntryRow & { seq: string }>(
      'SELECT * FROM ledger_entries WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3',
      [after, upTo, BATCH],
    );
    if (rows.length === 0) break;
    const entries = rows.map((row) => rowToEntry({ ...row, seq: Number(row.seq) }));
    await runPgProjectionWrites(
      client,
      entries.flatMap((entry) => projectEntry(entry)),
      REPLAY,
    );
    after = entries.at(-1)!.seq;
  }
  // The stored rows themselves, never an index someone could have left out of step with them.
  await client.query(
    'SET LOCAL enable_indexscan = off; SET LOCAL enable_indexonlyscan = off; SET LOCAL enable_bitmapscan = off',
  );
  for (const { table, key } of PROJECTION_TABLES) {
    const mismatch = await firstDifference(client, table, key);
    if (mismatch) return mismatch;
  }
  return null;
}

async function firstDifference(
  client: pg.ClientBase,
  table: (typeof PROJECTION_TABLES)[number]['table'],
  key: readonly string[],
): Promise<ProjectionMismatch | null> {
  const columns = pgProjectionColumns(table);
  const on = key.map((k) => `s.${k} = r.${k}`).join(' AND ');
  const differs = [
    `s.${key[0]} IS NULL`,
    `r.${key[0]} IS NULL`,
    ...columns.map((c) => `s.${c} IS DISTINCT FROM r.${c}`),
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
