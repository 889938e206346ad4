import type { Statement } from 'better-sqlite3';
import type { LedgerDb } from './open-ledger-db.js';

const caches = new WeakMap<LedgerDb, Map<string, Statement>>();

/**
 * The statement of `sql` on `db`, prepared once: preparing parses and plans the SQL again on every
 * call, which showed in the profile of queries run for every batch of deliveries. For statements
 * read with `get`, `all` or `run` (one that is being iterated cannot run again meanwhile).
 */
export function prepared<P extends unknown[] = unknown[], R = unknown>(
  db: LedgerDb,
  sql: string,
): Statement<P, R> {
  let cache = caches.get(db);
  if (!cache) {
    cache = new Map();
    caches.set(db, cache);
  }
  let statement = cache.get(sql);
  if (!statement) {
    statement = db.prepare(sql);
    cache.set(sql, statement);
  }
  return statement as unknown as Statement<P, R>;
}
