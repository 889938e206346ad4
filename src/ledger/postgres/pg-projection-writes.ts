import type pg from 'pg';
import {
  isInsert,
  PROJECTION_INSERTS,
  type ProjectionInsertKind,
  type ProjectionUpdateKind,
  type ProjectionWrite,
} from '../projection-writes.js';

/** The changes of `agent_metrics` rows in place, in PostgreSQL's dialect. */
function updateSql(prefix: string): Record<ProjectionUpdateKind, string> {
  return {
    merged: `UPDATE ${prefix}agent_metrics SET merged_prs_at_tier = merged_prs_at_tier + 1, merged_prs_total = merged_prs_total + 1 WHERE agent_id = $1`,
    token: `UPDATE ${prefix}agent_metrics SET token_hash = $1 WHERE agent_id = $2`,
    status: `UPDATE ${prefix}agent_metrics SET status = $1 WHERE agent_id = $2`,
    tier: `UPDATE ${prefix}agent_metrics SET tier = $1, tier_since = $2, merged_prs_at_tier = 0 WHERE agent_id = $3`,
    violationCount: `UPDATE ${prefix}agent_metrics SET violations_total = violations_total + 1,
         last_serious_violation_at = CASE WHEN $1::integer <> 0 THEN $2 ELSE last_serious_violation_at END
       WHERE agent_id = $3`,
  };
}

/** Rows per multi-row INSERT: well under PostgreSQL's 65,535 parameters at 11 columns. */
const ROWS_PER_INSERT = 1000;

/**
 * Runs the row changes of the projectors (`projectEntry`) on the tables named `prefix` + table:
 * the writes of `agent_metrics` one by one in their order (a row is inserted, then changed), the
 * rows added to the other tables (which nothing reads back while writing) a table at a time, in
 * multi-row INSERTs. The end state is the one the changes made in order make.
 */
export async function runPgProjectionWrites(
  client: pg.ClientBase,
  writes: readonly ProjectionWrite[],
  prefix = '',
): Promise<void> {
  const updates = updateSql(prefix);
  const rows = new Map<ProjectionInsertKind, unknown[][]>();
  for (const change of writes) {
    if (change.write === 'metricsInsert' || !isInsert(change.write)) {
      await client.query(sqlOf(change.write, updates, prefix), change.args as unknown[]);
      continue;
    }
    const list = rows.get(change.write) ?? [];
    list.push(change.args);
    rows.set(change.write, list);
  }
  for (const [kind, list] of rows) {
    for (let i = 0; i < list.length; i += ROWS_PER_INSERT)
      await insertRows(client, kind, list.slice(i, i + ROWS_PER_INSERT), prefix);
  }
}

function sqlOf(
  kind: ProjectionWrite['write'],
  updates: Record<ProjectionUpdateKind, string>,
  prefix: string,
): string {
  if (!isInsert(kind)) return updates[kind];
  const { table, columns } = PROJECTION_INSERTS[kind];
  return `INSERT INTO ${prefix}${table} (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`;
}

async function insertRows(
  client: pg.ClientBase,
  kind: ProjectionInsertKind,
  rows: readonly unknown[][],
  prefix: string,
): Promise<void> {
  const { table, columns } = PROJECTION_INSERTS[kind];
  const width = columns.length;
  const tuples = rows.map((_, r) => `(${columns.map((_c, c) => `$${r * width + c + 1}`).join(', ')})`);
  await client.query(
    `INSERT INTO ${prefix}${table} (${columns.join(', ')}) VALUES ${tuples.join(', ')}`,
    rows.flat(),
  );
}
