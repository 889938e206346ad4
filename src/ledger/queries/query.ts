import { dbOf, type Ledger, type LedgerSource } from '../ledger.js';
import { type LedgerReader, type Sql, type SqlParam, sqliteStatement } from '../ledger-reader.js';
import type { LedgerDb } from '../open-ledger-db.js';

/**
 * One query's SQL and row mapping, run two ways: synchronously on the SQLite ledger (today's call
 * sites, inside `ledger.atomically`) and asynchronously through a `LedgerReader` on either engine.
 */
export interface Query<P extends unknown[], R> {
  sync(store: LedgerSource, ...params: P): R;
  read(reader: LedgerReader, ...params: P): Promise<R>;
}

interface Definition<P extends unknown[], Rows, R> {
  /** The SQL, or which of several SQL texts the arguments call for. */
  sql: Sql | ((...params: P) => Sql);
  /** What is bound to the placeholders (default: the arguments as given). */
  bind?: (...params: P) => SqlParam[];
  map: (rows: Rows, ...params: P) => R;
}

function define<P extends unknown[], Rows, R>(
  definition: Definition<P, Rows, R>,
  sync: (store: LedgerSource, sql: Sql, params: SqlParam[]) => Rows,
  read: (reader: LedgerReader, sql: Sql, params: SqlParam[]) => Promise<Rows>,
): Query<P, R> {
  const sqlOf = (params: P) =>
    typeof definition.sql === 'function' ? definition.sql(...params) : definition.sql;
  const bound = (params: P) => (definition.bind ? definition.bind(...params) : (params as SqlParam[]));
  return {
    sync: (store, ...params) => definition.map(sync(store, sqlOf(params), bound(params)), ...params),
    read: async (reader, ...params) =>
      definition.map(await read(reader, sqlOf(params), bound(params)), ...params),
  };
}

/** A query of one row (the first), mapped from it or from undefined. */
export function getQuery<P extends unknown[], Row, R>(
  definition: Definition<P, Row | undefined, R>,
): Query<P, R> {
  return define(
    definition,
    (store, sql, params) => sqliteStatement(store, sql).get(...params) as Row | undefined,
    (reader, sql, params) => reader.get<Row>(sql, params),
  );
}

/** A query of every row, mapped together. */
export function allQuery<P extends unknown[], Row, R>(definition: Definition<P, Row[], R>): Query<P, R> {
  return define(
    definition,
    (store, sql, params) => sqliteStatement(store, sql).all(...params) as Row[],
    (reader, sql, params) => reader.all<Row>(sql, params),
  );
}

/** A query whose rows the mapping walks and may stop early: SQLite reads them one at a time. */
export function eachQuery<P extends unknown[], Row, R>(
  definition: Definition<P, Iterable<Row>, R>,
): Query<P, R> {
  return define(
    definition,
    (store, sql, params) => sqliteStatement(store, sql).iterate(...params) as IterableIterator<Row>,
    (reader, sql, params) => reader.all<Row>(sql, params),
  );
}

/** An insert or update. */
export function runQuery<P extends SqlParam[]>(sql: Sql): Query<P, void> {
  return define<P, unknown, void>(
    { sql, map: () => undefined },
    (store, text, params) => sqliteStatement(store, text).run(...params),
    (reader, text, params) => reader.run(text, params),
  );
}

/** The first query's answer, or, when it is null, the second's (asked only then). */
export function firstOf<P extends unknown[], R>(
  first: Query<P, R | null>,
  second: Query<P, R | null>,
): Query<P, R | null> {
  return {
    sync: (store, ...params) => first.sync(store, ...params) ?? second.sync(store, ...params),
    read: async (reader, ...params) =>
      (await first.read(reader, ...params)) ?? (await second.read(reader, ...params)),
  };
}

type Reads<Q> = {
  [K in keyof Q]: Q[K] extends Query<infer P, infer R>
    ? (reader: LedgerReader, ...params: P) => Promise<R>
    : never;
};

/** A module's queries in their asynchronous form: `reads.name(reader, ...arguments)`. */
export function asyncReads<Q extends Record<string, Query<never, unknown>>>(queries: Q): Reads<Q> {
  return Object.fromEntries(Object.entries(queries).map(([name, query]) => [name, query.read])) as Reads<Q>;
}

/**
 * A query asked with its arguments, answered on either engine: synchronously on SQLite (inside the
 * group commit's transaction, see `AsyncLedger.appendAnswered`) or through a `LedgerReader`.
 */
export interface Question<R> {
  sync(store: LedgerSource): R;
  read(reader: LedgerReader): Promise<R>;
}

type Questions<Q> = {
  [K in keyof Q]: Q[K] extends Query<infer P, infer R> ? (...params: P) => Question<R> : never;
};

/** A module's queries as questions: `asked.name(...arguments)` is that query with those arguments. */
export function questions<Q extends Record<string, Query<never, unknown>>>(queries: Q): Questions<Q> {
  const ask =
    (query: Query<unknown[], unknown>) =>
    (...params: unknown[]) => ({
      sync: (store: LedgerSource) => query.sync(store, ...params),
      read: (reader: LedgerReader) => query.read(reader, ...params),
    });
  return Object.fromEntries(
    Object.entries(queries).map(([name, query]) => [name, ask(query as Query<unknown[], unknown>)]),
  ) as Questions<Q>;
}

/** One `make(db)` per ledger database, made on first use (the query classes of today's call sites). */
export function perDatabase<T>(make: (db: LedgerDb) => T): (ledger: Ledger) => T {
  const made = new WeakMap<LedgerDb, T>();
  return (ledger) => {
    const db = dbOf(ledger);
    let value = made.get(db);
    if (value === undefined) {
      value = make(db);
      made.set(db, value);
    }
    return value;
  };
}
