import {
  closeSync,
  copyFileSync,
  existsSync,
  fchmodSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { UserError } from '../platform/errors.js';
import { MIGRATIONS } from './migrations.js';

export type LedgerDb = Database.Database;

export interface OpenLedgerOptions {
  /** Open an existing ledger only; never create one (for read-only commands such as verify). */
  mustExist?: boolean;
  readonly?: boolean;
}

/**
 * Opens the ledger database in WAL mode and brings its schema up to date. A file that is not a
 * SQLite database, or a schema newer than this build, is a user-facing error, never a crash.
 */
export function openLedgerDb(path: string, options: OpenLedgerOptions = {}): LedgerDb {
  if (path !== ':memory:' && !options.mustExist && !options.readonly) createPrivately(path);
  let db: LedgerDb;
  try {
    db = new Database(path, {
      fileMustExist: Boolean(options.mustExist),
      readonly: Boolean(options.readonly),
    });
  } catch (error) {
    throw new UserError(
      'ledger_open_failed',
      `cannot open the ledger at ${path}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  try {
    if (!options.readonly) {
      // Entries are small and appended one transaction at a time; smaller pages mean fewer bytes
      // written per commit. Only takes effect on a new, empty database.
      if ((db.pragma('page_count', { simple: true }) as number) === 0) db.pragma('page_size = 2048');
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      // Checkpoint the WAL every ~8 MB rather than every 1,000 pages: each checkpoint syncs to disk.
      db.pragma('wal_autocheckpoint = 4000');
    }
    db.pragma('busy_timeout = 5000');
    db.pragma('foreign_keys = ON');
    migrate(db, path, Boolean(options.readonly));
    return db;
  } catch (error) {
    db.close();
    if (error instanceof UserError) throw error;
    const message = (error as Error).message;
    if (/not a database|malformed|file is encrypted/i.test(message)) {
      throw new UserError(
        'ledger_corrupt',
        `the ledger at ${path} is not a readable SQLite database (${message}); restore it from a backup or point LEDGER_PATH elsewhere`,
        { cause: error },
      );
    }
    throw new UserError('ledger_open_failed', `cannot open the ledger at ${path}: ${message}`, {
      cause: error,
    });
  }
}

/**
 * A private copy, in memory, of the ledger at `path` as it is now: for a service started read-only
 * to investigate a ledger that does not verify. What it writes (sessions, state) stays in the copy;
 * the file is opened read-only and never written.
 */
export function snapshotLedgerDb(path: string): LedgerDb {
  if (!existsSync(path))
    throw new UserError('ledger_missing', `no ledger at ${path}; pass --ledger PATH or set LEDGER_PATH`);
  // SQLite cannot open a WAL database read-only without writing its shared-memory file, so the
  // copy is made from copies of the file and its WAL, in a private temporary directory.
  const dir = mkdtempSync(join(tmpdir(), 'agov-read-only-'));
  try {
    const copy = join(dir, 'ledger.db');
    copyFileSync(path, copy);
    if (existsSync(`${path}-wal`)) copyFileSync(`${path}-wal`, `${copy}-wal`);
    const file = openLedgerDb(copy, { mustExist: true });
    try {
      // An image still marked WAL cannot be opened in memory: fold the WAL into the copy first.
      file.pragma('journal_mode = DELETE');
      const memory = new Database(file.serialize());
      memory.pragma('foreign_keys = ON');
      return memory;
    } finally {
      file.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Creates the database file, empty, readable by its owner only, unless it exists. SQLite creates
 * the `-wal` and `-shm` files with the database file's mode, so they are private too. The mode is
 * set after creation so that no umask widens it. An existing file keeps the mode it has.
 */
function createPrivately(path: string): void {
  mkdirSync(dirname(path), { recursive: true });
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return;
    throw new UserError(
      'ledger_open_failed',
      `cannot create the ledger at ${path}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  try {
    fchmodSync(fd, 0o600);
  } finally {
    closeSync(fd);
  }
}

function migrate(db: LedgerDb, path: string, readonly: boolean): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  const latest = MIGRATIONS.at(-1)?.version ?? 0;
  if (current > latest) {
    throw new UserError(
      'ledger_too_new',
      `the ledger at ${path} has schema version ${current}, newer than this build understands (${latest}); upgrade agent-governance`,
    );
  }
  if (current === latest) return;
  if (readonly) {
    throw new UserError(
      'ledger_needs_migration',
      `the ledger at ${path} needs a schema migration; open it read-write once`,
    );
  }
  for (const migration of MIGRATIONS) {
    if (migration.version <= current) continue;
    db.transaction(() => {
      db.exec(migration.sql);
      db.pragma(`user_version = ${migration.version}`);
    }).immediate();
  }
}
