import pg from 'pg';
import { UserError } from '../../platform/errors.js';
import { migratePostgres, requireCurrentSchema } from './pg-migrations.js';

/** A PostgreSQL URL as it may be shown: without its password (or any secret query parameter). */
export function describePostgresUrl(url: URL): string {
  const user = url.username ? `${decodeURIComponent(url.username)}@` : '';
  return `${url.protocol}//${user}${url.host}${url.pathname}`;
}

/** Parses a `postgres://` or `postgresql://` URL; anything else is a user error naming no secret. */
export function parsePostgresUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UserError(
      'postgres_bad_url',
      'not a PostgreSQL URL: expected postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE',
    );
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new UserError(
      'postgres_bad_url',
      `not a PostgreSQL URL (scheme "${url.protocol.replace(/:$/, '')}"): expected postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE`,
    );
  }
  if (!url.hostname) throw new UserError('postgres_bad_url', 'the PostgreSQL URL names no host');
  return url;
}

export interface PostgresConnection {
  pool: pg.Pool;
  /** The URL without its password, for messages and logs. */
  where: string;
}

export interface ConnectOptions {
  /** Only a database that holds a ledger already (read-only commands). */
  mustExist?: boolean;
  /**
   * Every connection of the pool read-only (`default_transaction_read_only`, set as each one
   * starts), and no migration: the ledger must exist at this build's schema version. For `agov
   * serve --read-only`: the database refuses any write it would attempt.
   */
  readOnly?: boolean;
}

/**
 * Opens a pool on the database at `urlText` and migrates it (or, `readOnly`, checks it needs
 * none). An unreachable server, refused credentials or a missing database is a user error that
 * names the server, never the password.
 */
export async function connectPostgres(
  urlText: string,
  poolSize = 5,
  options: ConnectOptions = {},
): Promise<PostgresConnection> {
  const url = parsePostgresUrl(urlText);
  const where = describePostgresUrl(url);
  const pool = new pg.Pool({
    connectionString: urlText,
    max: poolSize,
    connectionTimeoutMillis: 5000,
    ...(options.readOnly ? { options: '-c default_transaction_read_only=on' } : {}),
  });
  // An idle connection dropped by the server (a restart) is replaced on the next query; that query
  // reports the failure if the server is still gone.
  pool.on('error', () => {});
  // A connection checked out when the server goes (between two queries of a transaction) emits its
  // error on the client, where no listener would make it the process's last word. Its next query
  // fails instead, and the pool drops it when it comes back.
  pool.on('connect', (client) => client.on('error', () => {}));
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (error) {
    await pool.end().catch(() => {});
    throw new UserError(
      'postgres_unreachable',
      `cannot connect to PostgreSQL at ${where}: ${reasonOf(error)}`,
      {
        cause: error,
      },
    );
  }
  try {
    if (options.mustExist || options.readOnly) await refuseNoLedger(client, where);
    if (options.readOnly) {
      await refuseWritable(client, where);
      await requireCurrentSchema(client, where);
    } else await migratePostgres(client, where);
  } catch (error) {
    client.release();
    await pool.end().catch(() => {});
    if (error instanceof UserError) throw error;
    throw new UserError(
      'ledger_migration_failed',
      `cannot ${options.readOnly ? 'read' : 'migrate'} the ledger at ${where}: ${reasonOf(error)}`,
      {
        cause: error,
      },
    );
  }
  client.release();
  return { pool, where };
}

/** A read-only command never creates a ledger in a database that holds none (a mistyped name). */
async function refuseNoLedger(client: pg.ClientBase, where: string): Promise<void> {
  const { rows } = await client.query<{ found: boolean }>(
    "SELECT to_regclass('ledger_entries') IS NOT NULL AS found",
  );
  if (!rows[0]?.found) {
    throw new UserError(
      'ledger_missing',
      `no ledger in the database at ${where}; check --database or DATABASE_URL`,
    );
  }
}

/**
 * A pool meant to be read-only whose connections are not (the URL's own `options` parameter
 * overrides the pool's) is refused rather than trusted: every connection starts the same way.
 */
async function refuseWritable(client: pg.ClientBase, where: string): Promise<void> {
  const { rows } = await client.query<{ default_transaction_read_only: string }>(
    'SHOW default_transaction_read_only',
  );
  if (rows[0]?.default_transaction_read_only !== 'on') {
    throw new UserError(
      'postgres_not_read_only',
      `the connections to ${where} are not read-only (the URL's options turn default_transaction_read_only off); remove that option for --read-only`,
    );
  }
}

function reasonOf(error: unknown): string {
  const e = error as { code?: string; message?: string };
  const message = e.message || e.code || String(error);
  return message.replace(/postgres(ql)?:\/\/[^\s]*/gi, '(url)');
}
