import type { LedgerPayload } from '../../core/ledger-entries.js';
import type { LedgerSource } from '../ledger.js';
import { type Dialect, perEngine } from '../ledger-reader.js';
import { allQuery, asyncReads, eachQuery, getQuery } from './query.js';

type BadOutcome = LedgerPayload<'pr.bad_outcome'>['outcome'];

/** An agent's merged PR, as its `pr.merged` entry records it. */
export interface MergedPullRequest {
  agentId: string | null;
  number: number;
  headSha: string;
}

interface MergedRow {
  agent_id: string | null;
  number: number;
  head_sha: string;
}

// Every `pr.merged` entry is read to find one PR's: matching the JSON in SQL is about three times
// faster than parsing each payload here (measured over 50,000 merges).
const merged = (d: Dialect, which: string) => `SELECT agent_id, ${d.json('payload', 'number')} AS number,
         ${d.json('payload', 'headSha')} AS head_sha
    FROM ledger_entries WHERE type = 'pr.merged' AND ${d.jsonIsText('payload', 'repository')}
     AND ${which} ORDER BY seq DESC LIMIT 1`;
const MERGED_BY_NUMBER = perEngine((d) => merged(d, d.jsonIsNumber('payload', 'number')));
const MERGED_BY_SHA = perEngine((d) =>
  merged(d, `(${d.jsonIsText('payload', 'mergeCommitSha')} OR ${d.jsonIsText('payload', 'headSha')})`),
);

type Which = { number: number } | { sha: string };

const queries = {
  lastBadOutcomeAt: getQuery<[agentId: string], { ts: string | null }, string | null>({
    sql: "SELECT MAX(ts) AS ts FROM ledger_entries WHERE type = 'pr.bad_outcome' AND agent_id = ?",
    map: (row) => row?.ts ?? null,
  }),
  badOutcomesSince: allQuery<
    [agentId: string, since: string],
    { ts: string; payload: string },
    { ts: string; evidence: string }[]
  >({
    sql: "SELECT ts, payload FROM ledger_entries WHERE type = 'pr.bad_outcome' AND agent_id = ? AND ts >= ? ORDER BY seq",
    map: (rows) =>
      rows.map((r) => {
        const p = JSON.parse(r.payload) as LedgerPayload<'pr.bad_outcome'>;
        return { ts: r.ts, evidence: `${p.repository}#${p.number} ${p.evidence}` };
      }),
  }),
  badOutcomeCounted: eachQuery<
    [repository: string, number: number, outcome: BadOutcome],
    { payload: string },
    boolean
  >({
    sql: "SELECT payload FROM ledger_entries WHERE type = 'pr.bad_outcome'",
    bind: () => [],
    map: (rows, repository, number, outcome) => {
      for (const row of rows) {
        const p = JSON.parse(row.payload) as LedgerPayload<'pr.bad_outcome'>;
        if (p.repository === repository && p.number === number && p.outcome === outcome) return true;
      }
      return false;
    },
  }),
  mergedPullRequest: getQuery<[repository: string, which: Which], MergedRow, MergedPullRequest | null>({
    sql: (_repository, which) => ('number' in which ? MERGED_BY_NUMBER : MERGED_BY_SHA),
    bind: (repository, which) =>
      'number' in which ? [repository, which.number] : [repository, which.sha, which.sha],
    map: (row) => (row ? { agentId: row.agent_id, number: row.number, headSha: row.head_sha } : null),
  }),
};

/** The queries of this module on either engine, through a `LedgerReader`. */
export const outcomesAsync = asyncReads(queries);

/** When the agent's newest bad outcome was recorded, if any. */
export function lastBadOutcomeAt(store: LedgerSource, agentId: string): string | null {
  return queries.lastBadOutcomeAt.sync(store, agentId);
}

/** The agent's bad outcomes since `since`, oldest first, each as `owner/repo#number evidence`. */
export function badOutcomesSince(
  store: LedgerSource,
  agentId: string,
  since: string,
): { ts: string; evidence: string }[] {
  return queries.badOutcomesSince.sync(store, agentId, since);
}

/** Whether this bad outcome of the PR was counted already. */
export function badOutcomeCounted(
  store: LedgerSource,
  repository: string,
  number: number,
  outcome: BadOutcome,
): boolean {
  return queries.badOutcomeCounted.sync(store, repository, number, outcome);
}

/** The newest `pr.merged` entry of the PR `which` names: by number, or by its merge or head commit. */
export function mergedPullRequest(
  store: LedgerSource,
  repository: string,
  which: Which,
): MergedPullRequest | null {
  return queries.mergedPullRequest.sync(store, repository, which);
}
