import Database from 'better-sqlite3';
import { readMigratedSchema } from './migrated-schema.js';
import { MIGRATIONS } from './migrations.js';
import type { LedgerDb } from './open-ledger-db.js';
import { PROJECTION_TABLES } from './projections.js';

/** The tables verify reads: the chain, the projections and the checkpoints. */
const VERIFIED_TABLES: readonly string[] = [
  'ledger_entries',
  ...PROJECTION_TABLES.map((t) => t.table),
  'checkpoints',
];

/** The table whose definition must be exactly the migrations' (its rows are the proof). */
const CHAIN_TABLE = 'ledger_entries';

interface SchemaObject {
  type: string;
  name: string;
  tbl_name: string;
  sql: string | null;
}

/** A schema object of the file that this build's migrations do not create, or a verified table that is not one. */
export interface SchemaProblem {
  object: string;
  reason: string;
}

interface Expected {
  objects: Map<string, SchemaObject>;
  columns: Map<string, string[]>;
}

let expectedCache: Expected | null = null;

/**
 * The objects on the verified tables, and every trigger and view of the file: a trigger on any
 * table (the outbox, the inbox) can rewrite what the service sends or the rows verify reads later.
 */
const OBJECTS_SQL = `SELECT type, name, tbl_name, sql FROM sqlite_master
  WHERE lower(name) IN (SELECT value FROM json_each(?)) OR lower(tbl_name) IN (SELECT value FROM json_each(?))
    OR type IN ('trigger', 'view')`;

function columnsOf(db: Database.Database | LedgerDb, table: string): string[] {
  return (db.prepare(`PRAGMA main.table_info("${table}")`).all() as { name: string }[]).map((c) => c.name);
}

/** The objects on the verified tables and their columns as this build's migrations create them. */
function expected(): Expected {
  expectedCache ??= readMigratedSchema((scratch) => {
    const names = JSON.stringify(VERIFIED_TABLES);
    const rows = scratch.prepare<[string, string], SchemaObject>(OBJECTS_SQL).all(names, names);
    return {
      objects: new Map(rows.map((r) => [r.name.toLowerCase(), r])),
      columns: new Map(VERIFIED_TABLES.map((t) => [t, columnsOf(scratch, t)])),
    };
  });
  return expectedCache;
}

/** SQL text with each run of white space as one space: the same definition however laid out. */
function spaced(sql: string | null): string | null {
  return sql?.replace(/\s+/g, ' ').trim() ?? null;
}

/**
 * The first thing in the schema of the file that lets its reads say something other than its
 * rows, or that verify cannot read: a verified table that is missing, not a table (a view), or
 * without the columns this build creates; the chain's table defined otherwise than the migrations
 * define it (another key, column types or collation); an index on a verified table, or a view or
 * trigger on any table, that the migrations do not create, or define otherwise (an index the
 * planner could read in place of the table, a trigger that rewrites the outbox). Indexes and triggers the migrations create may be missing: verify reads
 * no index, and reports missing triggers as a note.
 */
export function schemaProblem(db: LedgerDb): SchemaProblem | null {
  const want = expected();
  const names = JSON.stringify(VERIFIED_TABLES);
  const found = db.prepare<[string, string], SchemaObject>(OBJECTS_SQL).all(names, names);
  for (const table of VERIFIED_TABLES) {
    const row = found.find((r) => r.name.toLowerCase() === table);
    if (!row) return { object: table, reason: `the table ${table} is missing` };
    if (row.type !== 'table')
      return { object: table, reason: `${table} is a ${row.type}, not the table this build creates` };
    const columns = new Set(columnsOf(db, table));
    const missing = want.columns.get(table)!.filter((c) => !columns.has(c));
    if (missing.length > 0 || columns.size !== want.columns.get(table)!.length)
      return {
        object: table,
        reason: `the table ${table} does not have the columns this build creates (${want.columns.get(table)!.join(', ')})`,
      };
  }
  // What can change a read first (the chain's table, an index or a view), then the triggers.
  const rank = (r: SchemaObject) => (r.type === 'trigger' ? 1 : 0);
  for (const row of [...found].sort((a, b) => rank(a) - rank(b))) {
    const name = row.name.toLowerCase();
    if (row.type === 'table' && name !== CHAIN_TABLE) continue;
    const same = want.objects.get(name);
    if (same && same.type === row.type && spaced(same.sql) === spaced(row.sql)) continue;
    const what = `${row.type} ${row.name}`;
    return {
      object: row.name,
      reason:
        name === CHAIN_TABLE
          ? `the table ${CHAIN_TABLE} is not defined as this build creates it (its key, column types or collation changed)`
          : same
            ? `the ${what} on ${row.tbl_name} is not defined as this build creates it`
            : row.type === 'view'
              ? `the ${what} is not created by this build: someone added it`
              : `the ${what} on ${row.tbl_name} is not created by this build: someone added it (an index can make reads disagree with the table, a trigger rewrite what is written)`,
    };
  }
  return null;
}

/**
 * `schemaProblem` of the ledger file at `path`, read before the ledger is opened (whose own
 * statements fail on a table replaced by a view or without a column): null when the file cannot be
 * read here or is not at this build's schema version (opening it says why, or migrates it).
 */
export function schemaProblemAt(path: string): SchemaProblem | null {
  let db: LedgerDb;
  if (!path || path === ':memory:') return null;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
  } catch {
    return null;
  }
  try {
    const version = db.pragma('user_version', { simple: true }) as number;
    return version === MIGRATIONS.at(-1)!.version ? schemaProblem(db) : null;
  } catch {
    return null;
  } finally {
    db.close();
  }
}
