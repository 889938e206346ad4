import type { Statement } from 'better-sqlite3';
import { dbOf, type LedgerSource } from './ledger.js';
import type { LedgerDb } from './open-ledger-db.js';

/**
 * SQL the queries of src/ledger/queries write once, with `?` placeholders: the same text on both
 * engines, or, where the dialects differ, the two texts side by side (see `perEngine`).
 */
export type Sql = string | EngineSql;

export interface EngineSql {
  readonly sqlite: string;
  readonly postgres: string;
}

/** What a query binds: text, or a whole number (both engines refuse anything else alike). */
export type SqlParam = string | number | null;

/**
 * Reads (and the few writes) of the query modules on either engine: SQLite over the ledger's own
 * database, PostgreSQL over a pool or a transaction's client (`LedgerView.reader` reads inside
 * the transaction that appends a decision). Rows come back with the same JavaScript types on
 * both: integers as numbers, text as strings.
 */
export interface LedgerReader {
  readonly engine: 'sqlite' | 'postgres';
  /** The first row, or undefined when there is none. */
  get<T>(sql: Sql, params?: readonly SqlParam[]): Promise<T | undefined>;
  all<T>(sql: Sql, params?: readonly SqlParam[]): Promise<T[]>;
  /** Runs an insert or update; how many rows it changed. */
  run(sql: Sql, params?: readonly SqlParam[]): Promise<{ changes: number }>;
}

export function sqlOf(sql: Sql, engine: LedgerReader['engine']): string {
  return typeof sql === 'string' ? sql : sql[engine];
}

/** What differs between SQLite and PostgreSQL in the queries' SQL. */
export interface Dialect {
  /** The JSON value at `path` (dotted) of a JSON text column, as JavaScript reads it (a scalar). */
  json(column: string, path: string): string;
  /** The JSON value at `path` as text (a string's own text), to compare with a literal. */
  jsonText(column: string, path: string): string;
  /** Whether the JSON value at `path` is the text bound by the next `?`. */
  jsonIsText(column: string, path: string): string;
  /** Whether the JSON value at `path` is the whole number bound by the next `?`. */
  jsonIsNumber(column: string, path: string): string;
  /** Whether the JSON value at `path` is `true`. */
  jsonIsTrue(column: string, path: string): string;
  /** Text folded to lower case as SQLite's `lower` folds it: A-Z only. */
  lower(text: string): string;
  /** A text column to sort by, in code point order (SQLite's BINARY collation). */
  byText(column: string): string;
  /** A `LIMIT` for the next `?`: a negative number means no limit (as in SQLite). */
  limit(): string;
  /** After a table name: SQLite is told which index to walk (its planner would choose worse); PostgreSQL plans on its own. */
  indexedBy(index: string): string;
}

const sqliteDialect: Dialect = {
  json: (column, path) => `json_extract(${column}, '$.${path}')`,
  jsonText: (column, path) => `json_extract(${column}, '$.${path}')`,
  jsonIsText: (column, path) => `json_extract(${column}, '$.${path}') = ?`,
  jsonIsNumber: (column, path) => `json_extract(${column}, '$.${path}') = ?`,
  jsonIsTrue: (column, path) => `json_extract(${column}, '$.${path}') = 1`,
  lower: (text) => `lower(${text})`,
  byText: (column) => column,
  limit: () => 'LIMIT ?',
  indexedBy: (index) => `INDEXED BY ${index}`,
};

// `::json`, never `::jsonb` (which refuses any payload holding "\u0000"); but PostgreSQL's JSON
// operators refuse it too, and its text cannot hold NUL: an escaped NUL reads as U+FFFD there.
// Escaped backslashes become "\u005c" first (the same JSON), so that every "\u0000" left is one.
const pgJson = (column: string) =>
  `(CASE WHEN strpos(${column}, ${String.raw`'\u0000'`}) = 0 THEN ${column} ELSE replace(replace(${column}, ${String.raw`'\\', '\u005c'), '\u0000', '\ufffd'`}) END)::json`;
const pgPath = (path: string) => `'{${path.split('.').join(',')}}'`;
const postgresDialect: Dialect = {
  json: (column, path) => `(${pgJson(column)} #> ${pgPath(path)})`,
  jsonText: (column, path) => `(${pgJson(column)} #>> ${pgPath(path)})`,
  jsonIsText: (column, path) =>
    `(json_typeof(${pgJson(column)} #> ${pgPath(path)}) = 'string' AND (${pgJson(column)} #>> ${pgPath(path)}) = ?)`,
  jsonIsNumber: (column, path) => `(${pgJson(column)} #> ${pgPath(path)})::text = ?::text`,
  jsonIsTrue: (column, path) => `(${pgJson(column)} #> ${pgPath(path)})::text = 'true'`,
  lower: (text) => `lower((${text})::text COLLATE "C")`,
  byText: (column) => `${column} COLLATE "C"`,
  limit: () => 'LIMIT NULLIF(GREATEST(?, -1), -1)',
  indexedBy: () => '',
};

/** One query's SQL for both engines, written once over what differs. */
export function perEngine(build: (d: Dialect) => string): EngineSql {
  return { sqlite: build(sqliteDialect), postgres: build(postgresDialect) };
}

/**
 * Refuses what the two engines would treat differently: a number that is not a safe whole number
 * (SQLite compares 1.5 or 1e20, PostgreSQL cannot bind them to an integer column) and text holding
 * NUL (PostgreSQL cannot store it). The same clear error on both.
 */
export function checkParams(params: readonly SqlParam[]): void {
  for (const [i, value] of params.entries()) {
    if (typeof value === 'number' && !Number.isSafeInteger(value))
      throw new RangeError(`query parameter ${i + 1} is ${value}: numbers must be whole and within ±2^53`);
    if (typeof value === 'string' && value.includes('\u0000'))
      throw new RangeError(`query parameter ${i + 1} holds a NUL character, which no ledger stores`);
  }
}

/** `map`'s value for `key`, made and kept on first use. */
export function memo<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  const found = map.get(key);
  if (found !== undefined) return found;
  const made = make();
  map.set(key, made);
  return made;
}

const statementCache = new WeakMap<LedgerDb, Map<string, Statement>>();

/** The ledger database's statement for `sql`, prepared once per database. */
export function sqliteStatement(store: LedgerSource, sql: Sql): Statement {
  const db = dbOf(store);
  let statements = statementCache.get(db);
  if (!statements) {
    statements = new Map();
    statementCache.set(db, statements);
  }
  const text = sqlOf(sql, 'sqlite');
  return memo(statements, text, () => db.prepare(text));
}

/** The reader over a SQLite ledger: the same connection, so it sees its open transaction. */
export function sqliteReader(store: LedgerSource): LedgerReader {
  const prepared = (sql: Sql, params: readonly SqlParam[]) => {
    checkParams(params);
    return sqliteStatement(store, sql);
  };
  return {
    engine: 'sqlite',
    get: async <T>(sql: Sql, params: readonly SqlParam[] = []) =>
      prepared(sql, params).get(...params) as T | undefined,
    all: async <T>(sql: Sql, params: readonly SqlParam[] = []) => prepared(sql, params).all(...params) as T[],
    run: async (sql: Sql, params: readonly SqlParam[] = []) => ({
      changes: prepared(sql, params).run(...params).changes,
    }),
  };
}
