import type { LedgerPayload } from '../../core/ledger-entries.js';
import type { ApprovalReceipt, Attribution } from '../../core/policy/decision.js';
import { dbOf, type LedgerSource } from '../ledger.js';
import type { LedgerDb } from '../open-ledger-db.js';

type DecisionPayload = LedgerPayload<'decision.recorded'>;

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

/**
 * What the gate reads about pull requests: one PR's decisions and receipts (on every webhook and
 * reconcile pass), and the PRs waiting for people.
 */
function pullRequestStatements(db: LedgerDb) {
  return {
    waitingSince: db.prepare<[string, number, string], { ts: string | null }>(
      "SELECT MIN(ts) AS ts FROM decisions WHERE repository = ? AND number = ? AND head_sha = ? AND outcome = 'require_approval'",
    ),
    receipts: db.prepare<[string, number], ReceiptRow>(
      `SELECT approver, verdict, gate, head_sha, diff_hash, policy_version, source, ts FROM approvals
        WHERE repository = ? AND number = ? ORDER BY seq`,
    ),
    // Read for every PR on webhooks and reconcile passes: taking two fields from the payload in SQL
    // is two to four times faster than parsing a decision of 300 files here.
    latest: db.prepare<
      [string, number],
      {
        agent_id: string | null;
        head_sha: string;
        outcome: string;
        summary: string;
        strength: string | null;
        diff_hash: string | null;
        inputs: string | null;
      }
    >(
      `-- SQLite-only: json_extract (PostgreSQL: e.payload::jsonb ->> 'summary', #>> '{attribution,strength}')
       SELECT d.agent_id, d.head_sha, d.outcome, json_extract(e.payload, '$.summary') AS summary,
              json_extract(e.payload, '$.attribution.strength') AS strength,
              json_extract(e.payload, '$.diffHash') AS diff_hash,
              json_extract(e.payload, '$.inputs') AS inputs
         FROM decisions d JOIN ledger_entries e ON e.seq = d.seq
        WHERE d.repository = ? AND d.number = ? ORDER BY d.seq DESC LIMIT 1`,
    ),
    newest: db.prepare<[string, number], { agent_id: string | null; payload: string }>(
      `SELECT d.agent_id, e.payload FROM decisions d JOIN ledger_entries e ON e.seq = d.seq
        WHERE d.repository = ? AND d.number = ? ORDER BY d.seq DESC LIMIT 1`,
    ),
    atHead: db.prepare<[string, string], { number: number }>(
      'SELECT number FROM decisions WHERE repository = ? AND head_sha = ? ORDER BY seq DESC LIMIT 1',
    ),
    // Newest first: the decision at the head wins over older heads.
    ofPullRequest: db.prepare<[string, number, string], { payload: string }>(
      `SELECT e.payload FROM decisions d JOIN ledger_entries e ON e.seq = d.seq
        WHERE d.repository = ? AND d.number = ?
        ORDER BY CASE WHEN d.head_sha = ? THEN 0 ELSE 1 END, d.seq DESC`,
    ),
    waiting: db.prepare<
      [],
      { repository: string; number: number; head_sha: string; ts: string; payload: string }
    >(
      `SELECT d.repository, d.number, d.head_sha, d.ts, e.payload FROM decisions d
         JOIN ledger_entries e ON e.seq = d.seq
        WHERE d.outcome = 'require_approval'
          AND d.seq = (SELECT MAX(seq) FROM decisions x WHERE x.repository = d.repository AND x.number = d.number)`,
    ),
  };
}

/** What the watchers, suggestions and the backtest read over a window of time or sequence. */
function windowStatements(db: LedgerDb) {
  return {
    recorded: db.prepare<
      [string, string, number],
      { seq: number; ts: string; agent_id: string; payload: string }
    >(
      `SELECT seq, ts, agent_id, payload FROM ledger_entries
        WHERE type = 'decision.recorded' AND agent_id IS NOT NULL AND ts >= ? AND ts <= ?
        ORDER BY seq DESC LIMIT ?`,
    ),
    since: db.prepare<
      [string],
      { agent_id: string | null; repository: string; number: number; outcome: string; ts: string }
    >('SELECT agent_id, repository, number, outcome, ts FROM decisions WHERE ts >= ?'),
    payloadsSince: db.prepare<[string], { payload: string }>(
      "SELECT payload FROM ledger_entries WHERE type = 'decision.recorded' AND ts >= ?",
    ),
    allowedSince: db.prepare<[string], { repository: string; number: number }>(
      "SELECT repository, number FROM decisions WHERE outcome = 'allow' AND ts >= ?",
    ),
    approversSince: db.prepare<[string], { approver: string }>(
      "SELECT approver FROM approvals WHERE verdict = 'approve' AND ts >= ?",
    ),
    councilMembership: db.prepare<[number, number], { payload: string }>(
      "SELECT payload FROM ledger_entries WHERE seq > ? AND seq <= ? AND type = 'council.membership' ORDER BY seq DESC LIMIT 1",
    ),
  };
}

/** What a head commit's check shows: every PR whose newest decision is at it. */
function headStatements(db: LedgerDb) {
  return {
    // The PRs whose newest decision is at this head commit: they share its check run. Named
    // index: for ORDER BY number the planner would rather walk all the repository's decisions.
    othersAtHead: db.prepare<[string, string, number], { number: number; outcome: string; summary: string }>(
      `-- SQLite-only: json_extract (PostgreSQL: e.payload::jsonb ->> 'summary')
       SELECT d.number, d.outcome, json_extract(e.payload, '$.summary') AS summary
         FROM decisions d INDEXED BY decisions_head JOIN ledger_entries e ON e.seq = d.seq
        WHERE d.repository = ? AND d.head_sha = ? AND d.number <> ?
          AND d.seq = (SELECT max(x.seq) FROM decisions x WHERE x.repository = d.repository AND x.number = d.number)
        ORDER BY d.number`,
    ),
  };
}

function prepare(db: LedgerDb) {
  return { ...pullRequestStatements(db), ...windowStatements(db), ...headStatements(db) };
}

const cache = new WeakMap<LedgerDb, ReturnType<typeof prepare>>();
const statements = (db: LedgerDb) => cache.get(db) ?? cache.set(db, prepare(db)).get(db)!;

const parseDecision = (text: string) => JSON.parse(text) as DecisionPayload;

/** When the PR first waited for people at this head commit, if it did: deadlines run from here. */
export function waitingSince(
  store: LedgerSource,
  repository: string,
  number: number,
  headSha: string,
): string | null {
  const db = dbOf(store);
  return statements(db).waitingSince.get(repository, number, headSha)?.ts ?? null;
}

/** Every approval and rejection recorded for a PR, oldest first. */
export function approvalReceipts(store: LedgerSource, repository: string, number: number): ApprovalReceipt[] {
  const db = dbOf(store);
  return statements(db)
    .receipts.all(repository, number)
    .map((r) => ({
      approver: r.approver,
      verdict: r.verdict,
      gate: r.gate,
      headSha: r.head_sha,
      diffHash: r.diff_hash,
      policyVersion: r.policy_version,
      source: r.source,
      at: r.ts,
    }));
}

export function latestDecision(
  store: LedgerSource,
  repository: string,
  number: number,
): LatestDecision | null {
  const db = dbOf(store);
  const row = statements(db).latest.get(repository, number);
  return row
    ? {
        agentId: row.agent_id,
        headSha: row.head_sha,
        outcome: row.outcome,
        summary: row.summary,
        attribution: row.strength === 'claimed' ? 'claimed' : 'authenticated',
        diffHash: row.diff_hash,
        inputs: row.inputs,
      }
    : null;
}

/** The newest decision on a PR, whole (its gates and author), with its agent; or null. */
export function newestDecision(
  store: LedgerSource,
  repository: string,
  number: number,
): { agentId: string | null; payload: DecisionPayload } | null {
  const row = statements(dbOf(store)).newest.get(repository, number);
  return row ? { agentId: row.agent_id, payload: parseDecision(row.payload) } : null;
}

/** The newest decision of every other PR of the repository whose head is `headSha`. */
export function otherDecisionsAtHead(
  store: LedgerSource,
  repository: string,
  headSha: string,
  number: number,
): { number: number; outcome: string; summary: string }[] {
  return statements(dbOf(store)).othersAtHead.all(repository, headSha, number);
}

/** The PR most recently decided at a head commit of a repository, or null. */
export function pullRequestAtHead(store: LedgerSource, repository: string, headSha: string): number | null {
  return statements(dbOf(store)).atHead.get(repository, headSha)?.number ?? null;
}

/**
 * The files the PR's decision at `headSha` recorded (the newest decision that recorded any, when
 * none at that head did); null when no decision recorded files.
 */
export function recordedFiles(
  store: LedgerSource,
  repository: string,
  number: number,
  headSha: string,
): NonNullable<DecisionPayload['files']> | null {
  const db = dbOf(store);
  for (const row of statements(db).ofPullRequest.iterate(repository, number, headSha)) {
    const files = parseDecision(row.payload).files;
    if (files !== undefined) return files;
  }
  return null;
}

/** PRs whose newest decision is `require_approval`, with that decision. */
export function newestDecisionsWaiting(store: LedgerSource): WaitingDecision[] {
  const db = dbOf(store);
  return statements(db)
    .waiting.all()
    .map((r) => ({
      repository: r.repository,
      number: r.number,
      headSha: r.head_sha,
      ts: r.ts,
      payload: parseDecision(r.payload),
    }));
}

/**
 * The newest `last` decisions on agents' PRs recorded between `since` and `until` (ISO times,
 * both included), oldest first.
 */
export function recordedAgentDecisions(
  store: LedgerSource,
  window: { since: string; until: string; last: number },
): RecordedDecision[] {
  const db = dbOf(store);
  return statements(db)
    .recorded.all(window.since, window.until, window.last)
    .reverse()
    .map((r) => ({ seq: r.seq, ts: r.ts, agentId: r.agent_id, payload: parseDecision(r.payload) }));
}

/** Every decision recorded since `since`. */
export function decisionsSince(store: LedgerSource, since: string): DecisionSeen[] {
  const db = dbOf(store);
  return statements(db)
    .since.all(since)
    .map((r) => ({
      agentId: r.agent_id,
      repository: r.repository,
      number: r.number,
      outcome: r.outcome,
      ts: r.ts,
    }));
}

/** The payloads of the decisions recorded since `since`. */
export function decisionPayloadsSince(store: LedgerSource, since: string): DecisionPayload[] {
  const db = dbOf(store);
  return statements(db)
    .payloadsSince.all(since)
    .map((r) => parseDecision(r.payload));
}

/** PRs (`owner/repo#number`) allowed by a decision since `since`. */
export function allowedPullRequestsSince(store: LedgerSource, since: string): string[] {
  const db = dbOf(store);
  return statements(db)
    .allowedSince.all(since)
    .map((r) => `${r.repository}#${r.number}`);
}

/** The approver of each approval (not rejection) since `since`. */
export function approversSince(store: LedgerSource, since: string): string[] {
  const db = dbOf(store);
  return statements(db)
    .approversSince.all(since)
    .map((r) => r.approver);
}

/**
 * The council's Slack user group members as the newest `council.membership` entry in
 * (`afterSeq`, `upToSeq`] records them; null when that range has none.
 */
export function councilMembershipBetween(
  store: LedgerSource,
  afterSeq: number,
  upToSeq: number,
): string[] | null {
  const db = dbOf(store);
  const row = statements(db).councilMembership.get(afterSeq, upToSeq);
  return row ? (JSON.parse(row.payload) as LedgerPayload<'council.membership'>).members : null;
}
