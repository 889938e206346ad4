/** The id of this app's check run on each commit, kept so a later write updates it without a lookup. */
import type { LedgerSource } from '../ledger.js';
import { asyncReads, getQuery, runQuery } from './query.js';

const queries = {
  checkRunId: getQuery<[repository: string, headSha: string, name: string], { id: number }, number | null>({
    sql: 'SELECT check_run_id AS id FROM github_check_runs WHERE repository = ? AND head_sha = ? AND name = ?',
    map: (row) => row?.id ?? null,
  }),
  rememberCheckRun: runQuery<[repository: string, headSha: string, name: string, checkRunId: number]>(
    `INSERT INTO github_check_runs (repository, head_sha, name, check_run_id) VALUES (?, ?, ?, ?)
       ON CONFLICT (repository, head_sha, name) DO UPDATE SET check_run_id = excluded.check_run_id`,
  ),
};

/** The queries of this module on either engine, through a `LedgerReader`. */
export const checkRunsAsync = asyncReads(queries);

/** The kept id, 0 while a create is under way (its id not known yet), or null when none was made. */
export function checkRunId(
  store: LedgerSource,
  repository: string,
  headSha: string,
  name: string,
): number | null {
  return queries.checkRunId.sync(store, repository, headSha, name);
}

export function rememberCheckRun(
  store: LedgerSource,
  repository: string,
  headSha: string,
  name: string,
  checkRunId: number,
): void {
  queries.rememberCheckRun.sync(store, repository, headSha, name, checkRunId);
}
