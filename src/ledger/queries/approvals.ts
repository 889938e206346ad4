import type { LedgerPayload } from '../../core/ledger-entries.js';
import type { Ledger, LedgerSource } from '../ledger.js';
import { type Dialect, perEngine } from '../ledger-reader.js';
import type { LedgerDb } from '../open-ledger-db.js';
import { allQuery, asyncReads, getQuery, perDatabase, runQuery } from './query.js';

/** Where an approval request in Slack stands: waiting for votes, or how it ended. */
export const APPROVAL_REQUEST_STATES = ['pending', 'approved', 'rejected', 'closed', 'expired'] as const;
export type ApprovalRequestState = (typeof APPROVAL_REQUEST_STATES)[number];

/** A request as posted: its context (stored as JSON, read back as written) and where its message is. */
export interface PostedApprovalRequest<C> {
  approvalKey: string;
  repository: string;
  number: number;
  headSha: string;
  installationId: number | null;
  agentId: string;
  context: C;
  channel: string;
  ts: string;
  createdAt: string;
}

export interface SlackVote {
  approver: string;
  verdict: 'approve' | 'reject';
}

export interface SlackMessageRef {
  channel: string;
  ts: string;
}

interface RequestRow {
  context: string;
  state: string;
  installation_id: number | null;
  head_sha: string;
}

/**
 * The newest outcome the ledger records for a request (`approval.resolved`), or NULL. A request's
 * row follows its resolution after the commit; after a crash between the two it would say
 * `pending` for ever. Every read of a request's state goes by the ledger first.
 */
const resolvedOutcome = (d: Dialect) =>
  `(SELECT ${d.jsonText('e.payload', 'outcome')} FROM ledger_entries e
     WHERE e.type = 'approval.resolved' AND e.agent_id = slack_approvals.agent_id
       AND ${d.jsonText('e.payload', 'approvalId')} = slack_approvals.approval_key
     ORDER BY e.seq DESC LIMIT 1)`;
/** A request's state: as the ledger resolved it, else as its row says. */
const requestState = (d: Dialect) => `COALESCE(${resolvedOutcome(d)}, slack_approvals.state)`;
/** A request still waiting: its row says so and the ledger holds no resolution of it. */
export const requestWaits = (d: Dialect) =>
  `slack_approvals.state = 'pending' AND ${resolvedOutcome(d)} IS NULL`;
const REQUEST = (d: Dialect) =>
  `SELECT context, ${requestState(d)} AS state, installation_id, head_sha FROM slack_approvals`;
type Context = unknown;

const queries = {
  reviewRecorded: getQuery<
    [repository: string, number: number, approver: string, verdict: string, reviewId: number],
    { found: number },
    boolean
  >({
    sql: perEngine(
      (d) => `SELECT 1 AS found FROM approvals a JOIN ledger_entries e ON e.seq = a.seq
       WHERE a.repository = ? AND a.number = ? AND a.approver = ? AND a.verdict = ?
         AND ${d.jsonIsNumber('e.payload', 'reviewId')} LIMIT 1`,
    ),
    map: (row) => row !== undefined,
  }),
  // A request posted again (a retried delivery) keeps its context and state; only its message moves.
  remember: runQuery<
    [
      approvalKey: string,
      repository: string,
      number: number,
      headSha: string,
      installationId: number | null,
      agentId: string,
      context: string,
      channel: string,
      ts: string,
      createdAt: string,
    ]
  >(
    `INSERT INTO slack_approvals (approval_key, repository, number, head_sha, installation_id, agent_id, context, channel, ts, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (approval_key) DO UPDATE SET channel = excluded.channel, ts = excluded.ts`,
  ),
  request: getQuery<
    [approvalKey: string],
    RequestRow,
    { context: Context; state: ApprovalRequestState; installationId: number | null } | null
  >({
    sql: perEngine((d) => `${REQUEST(d)} WHERE approval_key = ?`),
    map: (row) =>
      row
        ? { context: contextOf(row), state: stateOf(row.state), installationId: row.installation_id }
        : null,
  }),
  state: getQuery<[approvalKey: string], { state: string }, ApprovalRequestState | null>({
    sql: perEngine((d) => `SELECT ${requestState(d)} AS state FROM slack_approvals WHERE approval_key = ?`),
    map: (row) => (row ? stateOf(row.state) : null),
  }),
  message: getQuery<
    [approvalKey: string],
    { channel: string | null; ts: string | null },
    SlackMessageRef | null
  >({
    sql: 'SELECT channel, ts FROM slack_approvals WHERE approval_key = ?',
    map: (row) => (row?.channel && row.ts ? { channel: row.channel, ts: row.ts } : null),
  }),
  setState: runQuery<[state: ApprovalRequestState, approvalKey: string]>(
    'UPDATE slack_approvals SET state = ? WHERE approval_key = ?',
  ),
  pendingOnPullRequest: allQuery<
    [repository: string, number: number],
    RequestRow,
    { context: Context; headSha: string }[]
  >({
    sql: perEngine(
      (d) =>
        `${REQUEST(d)} WHERE repository = ? AND number = ? AND ${requestWaits(d)} ORDER BY ${d.byText('created_at')}, ${d.byText('approval_key')}`,
    ),
    map: (rows) => rows.map((row) => ({ context: contextOf(row), headSha: row.head_sha })),
  }),
  pendingOfAgent: allQuery<[agentId: string], RequestRow, Context[]>({
    sql: perEngine(
      (d) =>
        `${REQUEST(d)} WHERE agent_id = ? AND ${requestWaits(d)} ORDER BY ${d.byText('created_at')}, ${d.byText('approval_key')}`,
    ),
    map: (rows) => rows.map((row) => contextOf(row)),
  }),
  pending: allQuery<[], RequestRow, { context: Context; installationId: number | null }[]>({
    sql: perEngine(
      (d) =>
        `${REQUEST(d)} WHERE ${requestWaits(d)} ORDER BY ${d.byText('created_at')}, ${d.byText('approval_key')}`,
    ),
    map: (rows) => rows.map((row) => ({ context: contextOf(row), installationId: row.installation_id })),
  }),
  slackVotes: allQuery<
    [repository: string, number: number, headSha: string],
    { approver: string; verdict: string },
    SlackVote[]
  >({
    sql: "SELECT approver, verdict FROM approvals WHERE repository = ? AND number = ? AND head_sha = ? AND source = 'slack' ORDER BY seq",
    map: (rows) => rows.map((row) => ({ approver: row.approver, verdict: verdictOf(row.verdict) })),
  }),
  latestDecision: getQuery<
    [repository: string, number: number],
    { payload: string },
    LedgerPayload<'decision.recorded'> | null
  >({
    sql: 'SELECT e.payload FROM decisions d JOIN ledger_entries e ON e.seq = d.seq WHERE d.repository = ? AND d.number = ? ORDER BY d.seq DESC LIMIT 1',
    map: (row) => (row ? (JSON.parse(row.payload) as LedgerPayload<'decision.recorded'>) : null),
  }),
  // How a request ended, as the ledger says (its newest `approval.resolved`); null while it waits.
  // `slack_approvals.state` follows it after the commit: a decision reads this to see an outcome
  // committed by another vote or replica whose state row is not written yet.
  resolution: getQuery<
    [agentId: string, approvalKey: string],
    { outcome: string },
    ApprovalRequestState | null
  >({
    sql: perEngine(
      (d) =>
        `SELECT ${d.jsonText('payload', 'outcome')} AS outcome FROM ledger_entries
       WHERE type = 'approval.resolved' AND agent_id = ? AND ${d.jsonIsText('payload', 'approvalId')} ORDER BY seq DESC LIMIT 1`,
    ),
    map: (row) => (row ? stateOf(row.outcome) : null),
  }),
  slackMessage: getQuery<[messageKey: string], SlackMessageRef, SlackMessageRef | null>({
    sql: 'SELECT channel, ts FROM slack_messages WHERE message_key = ?',
    map: (row) => (row ? { channel: row.channel, ts: row.ts } : null),
  }),
  rememberSlackMessage: runQuery<[messageKey: string, channel: string, ts: string]>(
    `INSERT INTO slack_messages (message_key, channel, ts) VALUES (?, ?, ?)
       ON CONFLICT (message_key) DO UPDATE SET channel = excluded.channel, ts = excluded.ts`,
  ),
};

/** Whether this GitHub review of the PR (its id, reviewer and verdict) was recorded already. */
export function reviewRecorded(
  store: LedgerSource,
  r: { repository: string; number: number; approver: string; verdict: string; reviewId: number },
): boolean {
  return queries.reviewRecorded.sync(store, r.repository, r.number, r.approver, r.verdict, r.reviewId);
}

/**
 * The queries of this module on either engine, through a `LedgerReader`. A request's context
 * comes back as stored (`unknown`): the caller says which type it is, as with `approvalQueries<C>`.
 */
export const approvalsAsync = asyncReads(queries);

/**
 * The Slack approval requests (`slack_approvals`), the Slack votes on a PR's head, and the other
 * Slack messages updated in place (`slack_messages`). `C` is the caller's request context: the
 * ledger stores it as JSON and gives back what was stored, without looking inside.
 */
export class ApprovalQueries<C> {
  constructor(private readonly db: LedgerDb) {}

  /** Stores a request once its message is posted; posted again, only where its message is changes. */
  remember(r: PostedApprovalRequest<C>): void {
    queries.remember.sync(
      this.db,
      r.approvalKey,
      r.repository,
      r.number,
      r.headSha,
      r.installationId,
      r.agentId,
      JSON.stringify(r.context),
      r.channel,
      r.ts,
      r.createdAt,
    );
  }

  /** A request with its state and the installation it was posted for; null when none was stored. */
  request(
    approvalKey: string,
  ): { context: C; state: ApprovalRequestState; installationId: number | null } | null {
    return queries.request.sync(this.db, approvalKey) as {
      context: C;
      state: ApprovalRequestState;
      installationId: number | null;
    } | null;
  }

  /** A request's state without its context; null when none was stored. */
  state(approvalKey: string): ApprovalRequestState | null {
    return queries.state.sync(this.db, approvalKey);
  }

  /** Where a request's message is; null until it is posted. */
  message(approvalKey: string): SlackMessageRef | null {
    return queries.message.sync(this.db, approvalKey);
  }

  setState(approvalKey: string, state: ApprovalRequestState): void {
    queries.setState.sync(this.db, state, approvalKey);
  }

  /** How a request ended as the ledger says (its newest `approval.resolved`); null while it waits. */
  resolution(agentId: string, approvalKey: string): ApprovalRequestState | null {
    return queries.resolution.sync(this.db, agentId, approvalKey);
  }

  /** The requests still waiting on a PR, oldest first, each with the head commit it was posted for. */
  pendingOnPullRequest(repository: string, number: number): { context: C; headSha: string }[] {
    return queries.pendingOnPullRequest.sync(this.db, repository, number) as {
      context: C;
      headSha: string;
    }[];
  }

  /** The requests of one agent still waiting, oldest first. */
  pendingOfAgent(agentId: string): C[] {
    return queries.pendingOfAgent.sync(this.db, agentId) as C[];
  }

  /** Every request still waiting, oldest first, with the installation it was posted for. */
  pending(): { context: C; installationId: number | null }[] {
    return queries.pending.sync(this.db) as { context: C; installationId: number | null }[];
  }

  /** The votes given in Slack on a PR's head commit, in the order given. */
  slackVotes(repository: string, number: number, headSha: string): SlackVote[] {
    return queries.slackVotes.sync(this.db, repository, number, headSha);
  }

  /** The newest decision recorded on a PR; null when there is none. */
  latestDecision(repository: string, number: number): LedgerPayload<'decision.recorded'> | null {
    return queries.latestDecision.sync(this.db, repository, number);
  }

  /** Where a message updated in place (a promotion request) was posted; null when it was not. */
  slackMessage(messageKey: string): SlackMessageRef | null {
    return queries.slackMessage.sync(this.db, messageKey);
  }

  rememberSlackMessage(messageKey: string, message: SlackMessageRef): void {
    queries.rememberSlackMessage.sync(this.db, messageKey, message.channel, message.ts);
  }
}

const perLedger = perDatabase((db) => new ApprovalQueries<unknown>(db));

/** The approval queries of a ledger, one per database. */
export function approvalQueries<C>(ledger: Ledger): ApprovalQueries<C> {
  // The class only stores and returns the context as JSON: which type it is, the caller says.
  return perLedger(ledger) as ApprovalQueries<C>;
}

function contextOf(row: { context: string }): Context {
  return JSON.parse(row.context) as Context;
}

function stateOf(value: string): ApprovalRequestState {
  if ((APPROVAL_REQUEST_STATES as readonly string[]).includes(value)) return value as ApprovalRequestState;
  throw new Error(`slack_approvals holds an unknown state "${value}"`);
}

function verdictOf(value: string): SlackVote['verdict'] {
  if (value === 'approve' || value === 'reject') return value;
  throw new Error(`approvals holds an unknown verdict "${value}"`);
}
