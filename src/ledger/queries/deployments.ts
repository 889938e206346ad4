import type { LedgerPayload } from '../../core/ledger-entries.js';
import type { LedgerSource } from '../ledger.js';
import { type Dialect, perEngine } from '../ledger-reader.js';
import { allQuery, asyncReads, getQuery } from './query.js';

/** A `deployment.decided` entry as stored: where it stands in the chain, and what it said. */
export interface StoredDeploymentDecision {
  seq: number;
  ts: string;
  payload: LedgerPayload<'deployment.decided'>;
}

/** One deployment: an environment of a workflow run. */
export interface DeploymentRef {
  repository: string;
  runId: number;
  environment: string;
}

type Decided = LedgerPayload<'deployment.decided'>;
type StoredRow = { seq: number; ts: string; payload: string };

/** The same deployment (repository, run, environment) in the entries `a` and `b`. */
const sameAs = (d: Dialect, a: string, b: string) =>
  ['repository', 'runId', 'environment']
    .map((key) => `${d.jsonText(`${a}.payload`, key)} = ${d.jsonText(`${b}.payload`, key)}`)
    .join(' AND ');

const stored = (r: StoredRow): StoredDeploymentDecision => ({
  seq: r.seq,
  ts: r.ts,
  payload: JSON.parse(r.payload),
});

const queries = {
  waitingDeployments: allQuery<[agentId: string], { payload: string }, Decided[]>({
    sql: perEngine(
      (d) => `SELECT e.payload FROM ledger_entries e
       WHERE e.type = 'deployment.decided' AND e.agent_id = ?
         AND e.seq = (
           SELECT MAX(e2.seq) FROM ledger_entries e2
           WHERE e2.type = 'deployment.decided' AND ${sameAs(d, 'e2', 'e')})`,
    ),
    map: (rows) => rows.map((r) => JSON.parse(r.payload) as Decided).filter((p) => p.state === 'waiting'),
  }),
  latestDeploymentDecision: getQuery<
    [d: DeploymentRef, beforeSeq?: number],
    StoredRow,
    StoredDeploymentDecision | null
  >({
    sql: perEngine(
      (d) => `SELECT seq, ts, payload FROM ledger_entries
       WHERE type = 'deployment.decided' AND ${d.jsonIsText('payload', 'repository')}
         AND ${d.jsonIsNumber('payload', 'runId')} AND ${d.jsonIsText('payload', 'environment')} AND seq < ?
       ORDER BY seq DESC LIMIT 1`,
    ),
    bind: (d, beforeSeq = Number.MAX_SAFE_INTEGER) => [d.repository, d.runId, d.environment, beforeSeq],
    map: (row) => (row ? stored(row) : null),
  }),
  deploymentVotes: allQuery<
    [approvalKey: string, requestSeq: number],
    { ts: string; payload: string },
    { ts: string; payload: LedgerPayload<'deployment.vote'> }[]
  >({
    sql: perEngine(
      (d) => `SELECT ts, payload FROM ledger_entries
       WHERE type = 'deployment.vote' AND ${d.jsonIsText('payload', 'approvalKey')}
         AND ${d.jsonIsNumber('payload', 'requestSeq')}
       ORDER BY seq`,
    ),
    map: (rows) => rows.map((r) => ({ ts: r.ts, payload: JSON.parse(r.payload) })),
  }),
  waitingDeploymentRequests: allQuery<[], StoredRow, StoredDeploymentDecision[]>({
    sql: perEngine(
      (d) => `SELECT r.seq, r.ts, r.payload FROM ledger_entries r
       WHERE r.type = 'deployment.decided' AND ${d.jsonText('r.payload', 'state')} = 'waiting'
         AND ${d.jsonText('r.payload', 'approval')} IS NOT NULL
         AND NOT EXISTS (
           SELECT 1 FROM ledger_entries s
           WHERE s.type = 'deployment.decided' AND s.seq > r.seq AND ${sameAs(d, 's', 'r')})
       ORDER BY r.seq`,
    ),
    map: (rows) => rows.map(stored),
  }),
};

/** The queries of this module on either engine, through a `LedgerReader`. */
export const deploymentsAsync = asyncReads(queries);

/**
 * The deployments an agent has waiting: for each (repository, run, environment), the newest
 * `deployment.decided` entry, when it is the agent's and says `waiting`. The kill switch rejects them.
 */
export function waitingDeployments(store: LedgerSource, agentId: string): Decided[] {
  return queries.waitingDeployments.sync(store, agentId);
}

/**
 * The newest `deployment.decided` entry for one deployment (before `beforeSeq` when given): what
 * was last answered, or that it waits. Null when the app never decided it.
 */
export function latestDeploymentDecision(
  store: LedgerSource,
  d: DeploymentRef,
  beforeSeq?: number,
): StoredDeploymentDecision | null {
  return queries.latestDeploymentDecision.sync(store, d, beforeSeq);
}

/** The votes counted on the request that began to wait at `requestSeq`, in the order given. */
export function deploymentVotes(
  store: LedgerSource,
  approvalKey: string,
  requestSeq: number,
): { ts: string; payload: LedgerPayload<'deployment.vote'> }[] {
  return queries.deploymentVotes.sync(store, approvalKey, requestSeq);
}
