import type { Statement } from 'better-sqlite3';
import type { LedgerPayload } from '../../core/ledger-entries.js';
import type { Ledger } from '../ledger.js';
import { dbOf } from '../ledger.js';
import type { LedgerDb } from '../open-ledger-db.js';

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
 * The Slack approval requests (`slack_approvals`), the Slack votes on a PR's head, and the other
 * Slack messages updated in place (`slack_messages`). `C` is the caller's request context: the
 * ledger stores it as JSON and gives back what was stored, without looking inside.
 */
export class ApprovalQueries<C> {
  private readonly upsert: Statement<
    [string, string, number, string, number | null, string, string, string, string, string]
  >;
  private readonly selectRequest: Statement<[string], RequestRow>;
  private readonly selectState: Statement<[string], { state: string }>;
  private readonly selectMessage: Statement<[string], { channel: string | null; ts: string | null }>;
  private readonly updateState: Statement<[string, string]>;
  private readonly selectPendingOnPr: Statement<[string, number], RequestRow>;
  private readonly selectPendingOfAgent: Statement<[string], RequestRow>;
  private readonly selectPending: Statement<[], RequestRow>;
  private readonly selectVotes: Statement<[string, number, string], { approver: string; verdict: string }>;
  private readonly selectLatestDecision: Statement<[string, number], { payload: string }>;
  private readonly selectSlackMessage: Statement<[string], SlackMessageRef>;
  private readonly upsertSlackMessage: Statement<[string, string, string]>;

  constructor(db: LedgerDb) {
    const request = 'SELECT context, state, installation_id, head_sha FROM slack_approvals';
    // A request posted again (a retried delivery) keeps its context and state; only its message moves.
    this.upsert = db.prepare(
      `INSERT INTO slack_approvals (approval_key, repository, number, head_sha, installation_id, agent_id, context, channel, ts, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (approval_key) DO UPDATE SET channel = excluded.channel, ts = excluded.ts`,
    );
    this.selectRequest = db.prepare(`${request} WHERE approval_key = ?`);
    this.selectState = db.prepare('SELECT state FROM slack_approvals WHERE approval_key = ?');
    this.selectMessage = db.prepare('SELECT channel, ts FROM slack_approvals WHERE approval_key = ?');
    this.updateState = db.prepare('UPDATE slack_approvals SET state = ? WHERE approval_key = ?');
    this.selectPendingOnPr = db.prepare(
      `${request} WHERE repository = ? AND number = ? AND state = 'pending'`,
    );
    this.selectPendingOfAgent = db.prepare(`${request} WHERE agent_id = ? AND state = 'pending'`);
    this.selectPending = db.prepare(`${request} WHERE state = 'pending' ORDER BY created_at`);
    this.selectVotes = db.prepare(
      "SELECT approver, verdict FROM approvals WHERE repository = ? AND number = ? AND head_sha = ? AND source = 'slack' ORDER BY seq",
    );
    this.selectLatestDecision = db.prepare(
      'SELECT e.payload FROM decisions d JOIN ledger_entries e ON e.seq = d.seq WHERE d.repository = ? AND d.number = ? ORDER BY d.seq DESC LIMIT 1',
    );
    this.selectSlackMessage = db.prepare('SELECT channel, ts FROM slack_messages WHERE message_key = ?');
    this.upsertSlackMessage = db.prepare(
      `INSERT INTO slack_messages (message_key, channel, ts) VALUES (?, ?, ?)
       ON CONFLICT (message_key) DO UPDATE SET channel = excluded.channel, ts = excluded.ts`,
    );
  }

  /** Stores a request once its message is posted; posted again, only where its message is changes. */
  remember(r: PostedApprovalRequest<C>): void {
    this.upsert.run(
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
    const row = this.selectRequest.get(approvalKey);
    return row
      ? { context: contextOf<C>(row), state: stateOf(row.state), installationId: row.installation_id }
      : null;
  }

  /** A request's state without its context; null when none was stored. */
  state(approvalKey: string): ApprovalRequestState | null {
    const row = this.selectState.get(approvalKey);
    return row ? stateOf(row.state) : null;
  }

  /** Where a request's message is; null until it is posted. */
  message(approvalKey: string): SlackMessageRef | null {
    const row = this.selectMessage.get(approvalKey);
    return row?.channel && row.ts ? { channel: row.channel, ts: row.ts } : null;
  }

  setState(approvalKey: string, state: ApprovalRequestState): void {
    this.updateState.run(state, approvalKey);
  }

  /** The requests still waiting on a PR, each with the head commit it was posted for. */
  pendingOnPullRequest(repository: string, number: number): { context: C; headSha: string }[] {
    return this.selectPendingOnPr
      .all(repository, number)
      .map((row) => ({ context: contextOf<C>(row), headSha: row.head_sha }));
  }

  /** The requests of one agent still waiting. */
  pendingOfAgent(agentId: string): C[] {
    return this.selectPendingOfAgent.all(agentId).map((row) => contextOf<C>(row));
  }

  /** Every request still waiting, oldest first, with the installation it was posted for. */
  pending(): { context: C; installationId: number | null }[] {
    return this.selectPending
      .all()
      .map((row) => ({ context: contextOf<C>(row), installationId: row.installation_id }));
  }

  /** The votes given in Slack on a PR's head commit, in the order given. */
  slackVotes(repository: string, number: number, headSha: string): SlackVote[] {
    return this.selectVotes.all(repository, number, headSha).map((row) => ({
      approver: row.approver,
      verdict: verdictOf(row.verdict),
    }));
  }

  /** The newest decision recorded on a PR; null when there is none. */
  latestDecision(repository: string, number: number): LedgerPayload<'decision.recorded'> | null {
    const row = this.selectLatestDecision.get(repository, number);
    return row ? (JSON.parse(row.payload) as LedgerPayload<'decision.recorded'>) : null;
  }

  /** Where a message updated in place (a promotion request) was posted; null when it was not. */
  slackMessage(messageKey: string): SlackMessageRef | null {
    const row = this.selectSlackMessage.get(messageKey);
    return row ? { channel: row.channel, ts: row.ts } : null;
  }

  rememberSlackMessage(messageKey: string, message: SlackMessageRef): void {
    this.upsertSlackMessage.run(messageKey, message.channel, message.ts);
  }
}

const cache = new WeakMap<LedgerDb, ApprovalQueries<unknown>>();

/** The approval queries of a ledger, their statements prepared once per database. */
export function approvalQueries<C>(ledger: Ledger): ApprovalQueries<C> {
  let queries = cache.get(dbOf(ledger));
  if (!queries) {
    queries = new ApprovalQueries<unknown>(dbOf(ledger));
    cache.set(dbOf(ledger), queries);
  }
  // The class only stores and returns the context as JSON: which type it is, the caller says.
  return queries as ApprovalQueries<C>;
}

function contextOf<C>(row: { context: string }): C {
  return JSON.parse(row.context) as C;
}

function stateOf(value: string): ApprovalRequestState {
  if ((APPROVAL_REQUEST_STATES as readonly string[]).includes(value)) return value as ApprovalRequestState;
  throw new Error(`slack_approvals holds an unknown state "${value}"`);
}

function verdictOf(value: string): SlackVote['verdict'] {
  if (value === 'approve' || value === 'reject') return value;
  throw new Error(`approvals holds an unknown verdict "${value}"`);
}
