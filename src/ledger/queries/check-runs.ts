import { dbOf, type LedgerSource } from '../ledger.js';
/** The id of this app's check run on each commit, kept so a later write updates it without a lookup. */
import type { LedgerDb } from '../open-ledger-db.js';

function prepare(db: LedgerDb) {
  return {
    get: db.prepare<[string, string, string], { id: number }>(
      'SELECT check_run_id AS id FROM github_check_runs WHERE repository = ? AND head_sha = ? AND name = ?',
    ),
    put: db.prepare<[string, string, string, number]>(
      `INSERT INTO github_check_runs (repository, head_sha, name, check_run_id) VALUES (?, ?, ?, ?)
       ON CONFLICT (repository, head_sha, name) DO UPDATE SET check_run_id = excluded.check_run_id`,
    ),
  };
}

const cache = new WeakMap<LedgerDb, ReturnType<typeof prepare>>();
const statements = (db: LedgerDb) => cache.get(db) ?? cache.set(db, prepare(db)).get(db)!;

/** The kept id, 0 while a create is under way (its id not known yet), or null when none was made. */
export function checkRunId(
  store: LedgerSource,
  repository: string,
  headSha: string,
  name: string,
): number | null {
  const db = dbOf(store);
  return statements(db).get.get(repository, headSha, name)?.id ?? null;
}

export function rememberCheckRun(
  store: LedgerSource,
  repository: string,
  headSha: string,
  name: string,
  checkRunId: number,
): void {
  const db = dbOf(store);
  statements(db).put.run(repository, headSha, name, checkRunId);
}
