import type { Statement } from 'better-sqlite3';
import type { LedgerDb } from './open-ledger-db.js';
import {
  PROJECTION_INSERTS,
  type ProjectionUpdateKind,
  type ProjectionWrite,
  type ProjectionWriteKind,
} from './projection-writes.js';

/** SQLite's prepared writes of the projection tables, one per kind of row change. */
export type ProjectionStatements = Record<ProjectionWriteKind, Statement>;

/** The changes of `agent_metrics` rows in place, in SQLite's dialect. */
function updateSql(tables: string): Record<ProjectionUpdateKind, string> {
  return {
    merged: `UPDATE ${tables}agent_metrics SET merged_prs_at_tier = merged_prs_at_tier + 1, merged_prs_total = merged_prs_total + 1 WHERE agent_id = ?`,
    token: `UPDATE ${tables}agent_metrics SET token_hash = ? WHERE agent_id = ?`,
    status: `UPDATE ${tables}agent_metrics SET status = ? WHERE agent_id = ?`,
    tier: `UPDATE ${tables}agent_metrics SET tier = ?, tier_since = ?, merged_prs_at_tier = 0 WHERE agent_id = ?`,
    violationCount: `UPDATE ${tables}agent_metrics SET violations_total = violations_total + 1,
         last_serious_violation_at = CASE WHEN ? THEN ? ELSE last_serious_violation_at END
       WHERE agent_id = ?`,
  };
}

/** Prepares the writes against the tables under `tables` (`main.` for the ledger's own). */
export function prepareProjectionStatements(db: LedgerDb, tables: string): ProjectionStatements {
  const statements: Partial<ProjectionStatements> = {};
  for (const [kind, { table, columns }] of Object.entries(PROJECTION_INSERTS)) {
    statements[kind as ProjectionWriteKind] = db.prepare(
      `INSERT INTO ${tables}${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`,
    );
  }
  for (const [kind, sql] of Object.entries(updateSql(tables))) {
    statements[kind as ProjectionWriteKind] = db.prepare(sql);
  }
  return statements as ProjectionStatements;
}

/** Runs one row change through its prepared statement. */
export function runProjectionWrite(statements: ProjectionStatements, change: ProjectionWrite): void {
  statements[change.write].run(...change.args);
}
