import { PROJECTION_TABLES } from '../projections.js';
import { PG_MIGRATIONS } from './pg-migrations.js';

export type ProjectionTable = (typeof PROJECTION_TABLES)[number]['table'];

interface TableShape {
  /** The column definitions between the parentheses of its `CREATE TABLE`. */
  body: string;
  /** Its column names, in order. */
  columns: string[];
}

let shapes: Map<string, TableShape> | null = null;

/**
 * The projection tables as this build's migrations create them, read from the migrations' text:
 * verify builds its replay tables from these, never from the stored schema, which whoever edited
 * the rows may have changed too. A migration that alters a projection table must recreate it, so
 * that its last `CREATE TABLE` here stays its shape.
 */
function projectionShapes(): Map<string, TableShape> {
  if (shapes) return shapes;
  const found = new Map<string, TableShape>();
  const create = /CREATE TABLE (\w+) \(([\s\S]*?)\n\s*\);/g;
  for (const { sql } of PG_MIGRATIONS) {
    for (const [, table, body] of sql.matchAll(create)) {
      const columns = body!
        .split(',\n')
        .map((line) => line.replace(/--.*$/gm, '').trim().split(/\s+/)[0]!)
        .filter((name) => name !== '' && name !== 'PRIMARY');
      found.set(table!, { body: body!, columns });
    }
  }
  for (const { table } of PROJECTION_TABLES)
    if (!found.has(table)) throw new Error(`the PostgreSQL migrations create no table ${table}`);
  shapes = found;
  return found;
}

/** The columns of a projection table, in order, as this build creates it. */
export function pgProjectionColumns(table: ProjectionTable): readonly string[] {
  return projectionShapes().get(table)!.columns;
}

/** Temporary copies of every projection table, named `prefix` + table, dropped at the transaction's end. */
export function pgReplayTablesDdl(prefix: string): string {
  const shape = projectionShapes();
  return PROJECTION_TABLES.map(
    ({ table }) => `CREATE TEMP TABLE ${prefix}${table} (${shape.get(table)!.body}\n) ON COMMIT DROP;`,
  ).join('\n');
}

/** A temporary copy of a table as this build's migrations create it (its columns, types and collations). */
export function pgTableDdl(prefix: string, table: string): string {
  const shape = projectionShapes().get(table);
  if (!shape) throw new Error(`the PostgreSQL migrations create no table ${table}`);
  return `CREATE TEMP TABLE ${prefix}${table} (${shape.body}\n) ON COMMIT DROP;`;
}
