import type { LedgerPayload } from '../core/ledger-entries.js';
import { dbOf, type LedgerSource } from './ledger.js';
import { type Dialect, perEngine } from './ledger-reader.js';
import { allQuery, asyncReads, getQuery } from './queries/query.js';

/**
 * The deployments an agent has waiting: for each (repository, run, environment), the newest
 * `deployment.decided` entry, when it is the agent's and says `waiting`. The kill switch rejects them.
 */
export function waitingDeployments(
  store: LedgerSource,
  agentId: string,
): LedgerPayload<'deployment.decided'>[] {
  const db = dbOf(store);
  const rows = db
    .prepare(
      `SELECT e.payload FROM ledger_entries e
       WHERE e.type = 'deployment.decided' AND e.agent_id = ?
         AND e.seq = (
           SELECT MAX(e2.seq) FROM ledger_entries e2
           WHERE e2.type = 'deployment.decided'
             AND json_extract(e2.payload, '$.repository') = json_extract(e.payload, '$.repository')
             AND json_extract(e2.payload, '$.runId') = json_extract(e.payload, '$.runId')
             AND json_extract(e2.payload, '$.environment') = json_extract(e.payload, '$.environment'))`,
    )
    .all(agentId) as { payload: string }[];
  return rows
    .map((r) => JSON.parse(r.payload) as LedgerPayload<'deployment.decided'>)
    .filter((p) => p.state === 'waiting');
}

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

const SAME_DEPLOYMENT = `json_extract(payload, '$.repository') = ? AND json_extract(payload, '$.runId') = ?
  AND json_extract(payload, '$.environment') = ?`;

/**
 * The newest `deployment.decided` entry for one deployment (before `beforeSeq` when given): what
 * was last answered, or that it waits. Null when the app never decided it.
 */
export function latestDeploymentDecision(
  store: LedgerSource,
  d: DeploymentRef,
  beforeSeq = Number.MAX_SAFE_INTEGER,
): StoredDeploymentDecision | null {
  const row = dbOf(store)
    .prepare(
      `SELECT seq, ts, payload FROM ledger_entries
       WHERE type = 'deployment.decided' AND ${SAME_DEPLOYMENT} AND seq < ?
       ORDER BY seq DESC LIMIT 1`,
    )
    .get(d.repository, d.runId, d.environment, beforeSeq) as
    | { seq: number; ts: string; payload: string }
    | undefined;
  return row ? { seq: row.seq, ts: row.ts, payload: JSON.parse(row.payload) } : null;
}

/** The votes counted on the request that began to wait at `requestSeq`, in the order given. */
export function deploymentVotes(
  store: LedgerSource,
  approvalKey: string,
  requestSeq: number,
): { ts: string; payload: LedgerPayload<'deployment.vote'> }[] {
  const rows = dbOf(store)
    .prepare(
      `SELECT ts, payload FROM ledger_entries
       WHERE type = 'deployment.vote' AND json_extract(payload, '$.approvalKey') = ?
         AND json_extract(payload, '$.requestSeq') = ?
       ORDER BY seq`,
    )
    .all(approvalKey, requestSeq) as { ts: string; payload: string }[];
  return rows.map((r) => ({ ts: r.ts, payload: JSON.parse(r.payload) }));
}

/** Every deployment whose newest entry waits for people's votes (its expiry is checked on them). */
export function waitingDeploymentRequests(store: LedgerSource): StoredDeploymentDecision[] {
  const rows = dbOf(store)
    .prepare(
      `SELECT r.seq, r.ts, r.payload FROM ledger_entries r
       WHERE r.type = 'deployment.decided' AND json_extract(r.payload, '$.state') = 'waiting'
         AND json_extract(r.payload, '$.approval') IS NOT NULL
         AND NOT EXISTS (
           SELECT 1 FROM ledger_entries s
           WHERE s.type = 'deployment.decided' AND s.seq > r.seq
             AND json_extract(s.payload, '$.repository') = json_extract(r.payload, '$.repository')
             AND json_extract(s.payload, '$.runId') = json_extract(r.payload, '$.runId')
             AND json_extract(s.payload, '$.environment') = json_extract(r.payload, '$.environment'))
       ORDER BY r.seq`,
    )
    .all() as { seq: number; ts: string; payload: string }[];
  return rows.map((r) => ({ seq: r.seq, ts: r.ts, payload: JSON.parse(r.payload) }));
}

const sameDeployment = (d: Dialect) =>
  `${d.jsonIsText('payload', 'repository')} AND ${d.jsonIsNumber('payload', 'runId')} AND ${d.jsonIsText('payload', 'environment')}`;

const queries = {
  latestDeploymentDecision: getQuery<
    [repository: string, runId: number, environment: string, beforeSeq: number],
    { seq: number; ts: string; payload: string },
    StoredDeploymentDecision | null
  >({
    sql: perEngine(
      (d) => `SELECT seq, ts, payload FROM ledger_entries
       WHERE type = 'deployment.decided' AND ${sameDeployment(d)} AND seq < ?
       ORDER BY seq DESC LIMIT 1`,
    ),
    map: (row) => (row ? { seq: Number(row.seq), ts: row.ts, payload: JSON.parse(row.payload) } : null),
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
};

/**
 * `latestDeploymentDecision` and `deploymentVotes` on either engine, through a `LedgerReader`
 * (a decision's `view.reader` reads them as its entries will extend the ledger).
 */
export const deploymentsAsync = asyncReads(queries);
