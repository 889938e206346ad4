import pg from 'pg';
import { checkParams, type LedgerReader, memo, type Sql, type SqlParam, sqlOf } from '../ledger-reader.js';

const INT8 = 20;
const NUMERIC = 1700;

/** bigint and numeric come back as text from node-pg; the queries want numbers, as SQLite gives them. */
function wholeNumber(text: string): number {
  const value = Number(text);
  if (Number.isInteger(value) && !Number.isSafeInteger(value))
    throw new RangeError(`PostgreSQL returned ${text}, beyond the whole numbers JavaScript holds exactly`);
  return value;
}

// Per query, not `types.setTypeParser`: the rest of the process keeps node-pg's defaults.
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8 || oid === NUMERIC
      ? wholeNumber
      : pg.types.getTypeParser(oid, format ?? 'text')) as pg.CustomTypesConfig['getTypeParser'],
};

const translated = new Map<string, { text: string; placeholders: number }>();

/**
 * `?` placeholders as `$1..$n`, each bound to a number cast to bigint (node-pg sends values as
 * text, and a PR number beyond 2^31 would fail an integer column's input instead of matching
 * nothing, as on SQLite). A `?` inside a string literal, quoted name or comment is refused rather
 * than guessed at; so is PostgreSQL's `?` JSON operator, which this SQL cannot use.
 */
export function postgresPlaceholders(sql: string, params: readonly SqlParam[]): string {
  const found = memo(translated, sql, () => numberPlaceholders(sql));
  if (found.placeholders !== params.length)
    throw new RangeError(`the query has ${found.placeholders} placeholders and ${params.length} parameters`);
  return found.text.replace(/\$(\d+)\b(?!::)/g, (whole, n: string) =>
    typeof params[Number(n) - 1] === 'number' ? `${whole}::bigint` : whole,
  );
}

function numberPlaceholders(sql: string): { text: string; placeholders: number } {
  let text = '';
  let placeholders = 0;
  let quote: string | null = null;
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i]!;
    if (quote) {
      if (c === '?') throw new Error(`a "?" inside a quoted string or name: ${sql}`);
      if (c === quote) quote = null;
      text += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      text += c;
    } else if (c === '-' && sql[i + 1] === '-') {
      throw new Error(`a comment in SQL sent to PostgreSQL (keep comments in the code): ${sql}`);
    } else if (c === '$') {
      throw new Error(`a "$" outside quotes (PostgreSQL placeholders are written "?" here): ${sql}`);
    } else if (c === '?') {
      text += `$${++placeholders}`;
    } else text += c;
  }
  if (quote) throw new Error(`an unterminated quote in: ${sql}`);
  return { text, placeholders };
}

/** The reader over a pool (each read on any connection) or one client (inside its transaction). */
export function pgReader(db: pg.Pool | pg.ClientBase): LedgerReader {
  const query = async <T extends pg.QueryResultRow>(sql: Sql, params: readonly SqlParam[]) => {
    checkParams(params);
    const text = postgresPlaceholders(sqlOf(sql, 'postgres'), params);
    return db.query<T>({ text, values: [...params], types });
  };
  return {
    engine: 'postgres',
    get: async <T>(sql: Sql, params: readonly SqlParam[] = []) =>
      (await query<T & pg.QueryResultRow>(sql, params)).rows[0] as T | undefined,
    all: async <T>(sql: Sql, params: readonly SqlParam[] = []) =>
      (await query<T & pg.QueryResultRow>(sql, params)).rows as T[],
    run: async (sql: Sql, params: readonly SqlParam[] = []) => ({
      changes: (await query(sql, params)).rowCount ?? 0,
    }),
  };
}
