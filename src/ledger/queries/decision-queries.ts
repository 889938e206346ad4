/** The decision queries' SQL and row mappings (decisions.ts runs them, synchronously or through a reader). */
import type { LedgerPayload } from '../../core/ledger-entries.js';
import type { ApprovalReceipt, Attribution } from '../../core/policy/decision.js';
import { perEngine } from '../ledger-reader.js';
import { allQuery, eachQuery, getQuery } from './query.js';

export type DecisionPayload = LedgerPayload<'decision.recorded'>;

/** The newest decision on a PR, as the gate, the merge queue and the outcomes read it. */
export interface LatestDecision {
  agentId: string | null;
  headSha: string;
  outcome: string;
  summary: string;
  /** Only an authenticated attribution counts for or against the agent (merges, CI failures). */
  attribution: Attribution['strength'];
  diffHash: string | null;
  /** The digest of what the verdict depended on; null for decisions recorded without it. */
  inputs: string | null;
  /** GitHub's `updated_at` of the PR as decided; null when the event did not say. */
  updatedAt: string | null;
}

/** A PR whose newest decision waits for people, with that decision. */
export interface WaitingDecision {
  repository: string;
  number: number;
  headSha: string;
  ts: string;
  payload: DecisionPayload;
}

/** A recorded decision on an agent's PR (for the backtest). */
export interface RecordedDecision {
  seq: number;
  ts: string;
  agentId: string;
  payload: DecisionPayload;
}

/** A decision as the bug watcher reads it. */
export interface DecisionSeen {
  agentId: string | null;
  repository: string;
  number: number;
  outcome: string;
  ts: string;
}

interface ReceiptRow {
  approver: string;
  verdict: ApprovalReceipt['verdict'];
  gate: string | null;
  head_sha: string;
  diff_hash: string;
  policy_version: string;
  source: ApprovalReceipt['source'];
  ts: string;
}

type LatestRow = {
  agent_id: string | null;
  head_sha: string;
  outcome: string;
  summary: string;
  strength: string | null;
  diff_hash: string | null;
  inputs: string | null;
  updated_at: string | null;
};

/** The newest decision of a PR, two fields taken from its payload in SQL. */
export const LATEST_DECISION_SQL = perEngine(
  (d) => `SELECT d.agent_id, d.head_sha, d.outcome, ${d.json('e.payload', 'summary')} AS summary,
            ${d.json('e.payload', 'attribution.strength')} AS strength,
            ${d.json('e.payload', 'diffHash')} AS diff_hash,
            ${d.json('e.payload', 'inputs')} AS inputs,
            ${d.json('e.payload', 'pullRequestUpdatedAt')} AS updated_at
       FROM decisions d JOIN ledger_entries e ON e.seq = d.seq
      WHERE d.repository = ? AND d.number = ? ORDER BY d.seq DESC LIMIT 1`,
);

const parseDecision = (text: string) => JSON.parse(text) as DecisionPayload;

/**
 * What the gate reads about pull requests: one PR's decisions and receipts (on every webhook and
 * reconcile pass), and the PRs waiting for people.
 */
const pullRequestQueries = {
  waitingSince: getQuery<
    [repository: string, number: number, headSha: string],
    { ts: string | null },
    string | null
  >({
    sql: "SELECT MIN(ts) AS ts FROM decisions WHERE repository = ? AND number = ? AND head_sha = ? AND outcome = 'require_approval'",
    map: (row) => row?.ts ?? null,
  }),
  approvalReceipts: allQuery<[repository: string, number: number], ReceiptRow, ApprovalReceipt[]>({
    sql: `SELECT approver, verdict, gate, head_sha, diff_hash, policy_version, source, ts FROM approvals
        WHERE repository = ? AND number = ? ORDER BY seq`,
    map: (rows) =>
      rows.map((r) => ({
        approver: r.approver,
        verdict: r.verdict,
        gate: r.gate,
        headSha: r.head_sha,
        diffHash: r.diff_hash,
        policyVersion: r.policy_version,
        source: r.source,
        at: r.ts,
      })),
  }),
  // Read for every PR on webhooks and reconcile passes: taking two fields from the payload in SQL
  // is two to four times faster than parsing a decision of 300 files here.
  latestDecision: getQuery<[repository: string, number: number], LatestRow, LatestDecision | null>({
    sql: LATEST_DECISION_SQL,
    map: (row) =>
      row
        ? {
            agentId: row.agent_id,
            headSha: row.head_sha,
            outcome: row.outcome,
            summary: row.summary,
            attribution: row.strength === 'claimed' ? 'claimed' : 'authenticated',
            diffHash: row.diff_hash,
            inputs: row.inputs,
            updatedAt: row.updated_at,
          }
        : null,
  }),
  newestDecision: getQuery<
    [repository: string, number: number],
    { agent_id: string | null; payload: string },
    { agentId: string | null; payload: DecisionPayload } | null
  >({
    sql: `SELECT d.agent_id, e.payload FROM decisions d JOIN ledger_entries e ON e.seq = d.seq
        WHERE d.repository = ? AND d.number = ? ORDER BY d.seq DESC LIMIT 1`,
    map: (row) => (row ? { agentId: row.agent_id, payload: parseDecision(row.payload) } : null),
  }),
  decidedAtHead: getQuery<[repository: string, headSha: string, number: number], { found: number }, boolean>({
    sql: 'SELECT 1 AS found FROM decisions WHERE repository = ? AND head_sha = ? AND number = ? LIMIT 1',
    map: (row) => row !== undefined,
  }),
  pullRequestAtHead: getQuery<[repository: string, headSha: string], { number: number }, number | null>({
    sql: 'SELECT number FROM decisions WHERE repository = ? AND head_sha = ? ORDER BY seq DESC LIMIT 1',
    map: (row) => row?.number ?? null,
  }),
  // Newest first: the decision at the head wins over older heads.
  recordedFiles: eachQuery<
    [repository: string, number: number, headSha: string],
    { payload: string },
    NonNullable<DecisionPayload['files']> | null
  >({
    sql: `SELECT e.payload FROM decisions d JOIN ledger_entries e ON e.seq = d.seq
        WHERE d.repository = ? AND d.number = ?
        ORDER BY CASE WHEN d.head_sha = ? THEN 0 ELSE 1 END, d.seq DESC`,
    map: (rows) => {
      for (const row of rows) {
        const files = parseDecision(row.payload).files;
        if (files !== undefined) return files;
      }
      return null;
    },
  }),
  newestDecisionsWaiting: allQuery<
    [],
    { repository: string; number: number; head_sha: string; ts: string; payload: string },
    WaitingDecision[]
  >({
    sql: `SELECT d.repository, d.number, d.head_sha, d.ts, e.payload FROM decisions d
         JOIN ledger_entries e ON e.seq = d.seq
        WHERE d.outcome = 'require_approval'
          AND d.seq = (SELECT MAX(seq) FROM decisions x WHERE x.repository = d.repository AND x.number = d.number)
        ORDER BY d.seq`,
    map: (rows) =>
      rows.map((r) => ({
        repository: r.repository,
        number: r.number,
        headSha: r.head_sha,
        ts: r.ts,
        payload: parseDecision(r.payload),
      })),
  }),
};

/** What the watchers, suggestions and the backtest read over a window of time or sequence. */
const windowQueries = {
  recordedAgentDecisions: allQuery<
    [window: { since: string; until: string; last: number }],
    { seq: number; ts: string; agent_id: string; payload: string },
    RecordedDecision[]
  >({
    sql: perEngine(
      (d) => `SELECT seq, ts, agent_id, payload FROM ledger_entries
        WHERE type = 'decision.recorded' AND agent_id IS NOT NULL AND ts >= ? AND ts <= ?
        ORDER BY seq DESC ${d.limit()}`,
    ),
    bind: (window) => [window.since, window.until, window.last],
    map: (rows) =>
      rows
        .reverse()
        .map((r) => ({ seq: r.seq, ts: r.ts, agentId: r.agent_id, payload: parseDecision(r.payload) })),
  }),
  decisionsSince: allQuery<
    [since: string],
    { agent_id: string | null; repository: string; number: number; outcome: string; ts: string },
    DecisionSeen[]
  >({
    sql: 'SELECT agent_id, repository, number, outcome, ts FROM decisions WHERE ts >= ? ORDER BY seq',
    map: (rows) =>
      rows.map((r) => ({
        agentId: r.agent_id,
        repository: r.repository,
        number: r.number,
        outcome: r.outcome,
        ts: r.ts,
      })),
  }),
  decisionPayloadsSince: allQuery<[since: string], { payload: string }, DecisionPayload[]>({
    sql: "SELECT payload FROM ledger_entries WHERE type = 'decision.recorded' AND ts >= ? ORDER BY seq",
    map: (rows) => rows.map((r) => parseDecision(r.payload)),
  }),
  allowedPullRequestsSince: allQuery<[since: string], { repository: string; number: number }, string[]>({
    sql: "SELECT repository, number FROM decisions WHERE outcome = 'allow' AND ts >= ? ORDER BY seq",
    map: (rows) => rows.map((r) => `${r.repository}#${r.number}`),
  }),
  approversSince: allQuery<[since: string], { approver: string }, string[]>({
    sql: "SELECT approver FROM approvals WHERE verdict = 'approve' AND ts >= ? ORDER BY seq",
    map: (rows) => rows.map((r) => r.approver),
  }),
  councilMembershipBetween: getQuery<
    [afterSeq: number, upToSeq: number],
    { payload: string },
    string[] | null
  >({
    sql: "SELECT payload FROM ledger_entries WHERE seq > ? AND seq <= ? AND type = 'council.membership' ORDER BY seq DESC LIMIT 1",
    map: (row) => (row ? (JSON.parse(row.payload) as LedgerPayload<'council.membership'>).members : null),
  }),
};

/** What a head commit's check shows: every PR whose newest decision is at it. */
const headQueries = {
  // The PRs whose newest decision is at this head commit: they share its check run.
  otherDecisionsAtHead: allQuery<
    [repository: string, headSha: string, number: number],
    { number: number; outcome: string; summary: string },
    { number: number; outcome: string; summary: string }[]
  >({
    sql: perEngine(
      // Named index on SQLite: for ORDER BY number its planner would rather walk all the
      // repository's decisions, a cost that grows with the ledger, in every decision's write.
      (d) => `SELECT d.number, d.outcome, ${d.json('e.payload', 'summary')} AS summary
         FROM decisions d ${d.indexedBy('decisions_head')} JOIN ledger_entries e ON e.seq = d.seq
        WHERE d.repository = ? AND d.head_sha = ? AND d.number <> ?
          AND d.seq = (SELECT max(x.seq) FROM decisions x WHERE x.repository = d.repository AND x.number = d.number)
        ORDER BY d.number`,
    ),
    map: (rows) => rows,
  }),
};

/** Every query about PR decisions: SQL and row mapping, run by decisions.ts on either engine. */
export const decisionQueries = { ...pullRequestQueries, ...windowQueries, ...headQueries };
