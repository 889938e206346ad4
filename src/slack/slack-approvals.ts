import { parseDeploymentApprovalKey } from '../core/approval-key.js';
import { loginKey } from '../core/people.js';
import type { ApprovalReceipt } from '../core/policy/decision.js';
import { type GateTally, pullRequestSubject, tallyGate } from '../core/policy/gate-tally.js';
import { DeploymentApprovals } from '../governance/deployment-approvals.js';
import type { Governance } from '../governance/governance.js';
import type { LedgerReader } from '../ledger/ledger-reader.js';
import { approvalsAsync } from '../ledger/queries/approvals.js';
import { decisionViewsAsync } from '../ledger/queries/decision-views.js';
import { decisionsAsync } from '../ledger/queries/decisions.js';
import { type Closing, closeForAgent, closeOver, type ExpiredRequest, expire } from './approval-closing.js';
import { approvalContextOf, type Decision, headOf, rulesOf } from './approval-request.js';
import { castVote, type VoteResult } from './approval-votes.js';
import type { ApprovalContext, Vote } from './blocks.js';
import { castDeploymentVote } from './deployment-votes.js';

/**
 * Approval requests in Slack: what each one is, where its message is, and how the one tally reads
 * it (the same answer the check shows). Votes are cast by `approval-votes`; requests that are over
 * or past their deadline are closed by `approval-closing`.
 */
export class SlackApprovals {
  private readonly reader: LedgerReader;
  /** Deployments waiting on a gate: voted on with the same buttons, known by their own key form. */
  readonly deployments: DeploymentApprovals;

  constructor(private readonly governance: Governance) {
    this.reader = governance.store.reader;
    this.deployments = new DeploymentApprovals(governance);
  }

  /**
   * The context of an approval request from the decision that needs it. `reader`: the ledger as a
   * decision sees it (the consequences follower's), or as it is now.
   */
  async contextFor(
    decision: Decision & { agentId: string },
    expiresAt: Date,
    reader = this.reader,
  ): Promise<ApprovalContext | null> {
    const owner = await decisionViewsAsync.agentOwner(reader, decision.agentId);
    const veto = Boolean(this.governance.config.council?.veto);
    return approvalContextOf(decision, { expiresAt, owner, veto });
  }

  /**
   * Each gate of a request, tallied over every receipt on the PR (Slack clicks and GitHub reviews
   * alike): the one answer the check shows too.
   */
  async tallies(context: ApprovalContext, reader = this.reader): Promise<GateTally[]> {
    return this.talliesOver(
      context,
      await decisionsAsync.approvalReceipts(reader, context.repository, context.number),
    );
  }

  /** Each gate of a request tallied over the receipts given (a decision's, read as of its view). */
  talliesOver(context: ApprovalContext, receipts: readonly ApprovalReceipt[], now = new Date()): GateTally[] {
    const rules = rulesOf(context);
    const directory = this.governance.directory();
    const subject = pullRequestSubject({
      headSha: headOf(context),
      diffHash: context.diffHash ?? null,
      policyVersion: context.policyVersion ?? null,
      owner: context.owner,
      author: context.author ?? null,
      // The request was posted `expiryHours` before its deadline.
      requestedAt: new Date(Date.parse(context.expiresAt) - rules[0]!.expiryHours * 3600_000).toISOString(),
    });
    return rules.map((rule) => tallyGate(rule, receipts, subject, directory, now));
  }

  /** Stores the request once its message is posted: clicks on it find it here. */
  async remember(
    context: ApprovalContext,
    installationId: number | null,
    channel: string,
    ts: string,
  ): Promise<void> {
    await approvalsAsync.remember(
      this.governance.store.reader,
      context.approvalKey,
      context.repository,
      context.number,
      headOf(context),
      installationId,
      context.agentId,
      JSON.stringify(context),
      channel,
      ts,
      new Date().toISOString(),
    );
  }

  /** The Slack users of the people the tallies say may still approve a gate that waits. */
  slackUsersOf(tallies: readonly GateTally[]): string[] {
    const directory = this.governance.directory();
    const logins = new Set(tallies.flatMap((t) => t.mayApprove.map(loginKey)));
    return directory.people.filter((p) => p.slack && logins.has(loginKey(p.github))).map((p) => p.slack!);
  }

  /** The request stored under a key, or null. */
  async request(approvalKey: string, reader = this.reader): Promise<ApprovalContext | null> {
    return (
      ((await approvalsAsync.request(reader, approvalKey))?.context as ApprovalContext | undefined) ?? null
    );
  }

  /** Where a request's message is. */
  async whereIs(approvalKey: string, reader = this.reader): Promise<{ channel: string; ts: string } | null> {
    // A deployment's card is remembered by its key as a message updated in place.
    if (parseDeploymentApprovalKey(approvalKey)) return approvalsAsync.slackMessage(reader, approvalKey);
    return approvalsAsync.message(reader, approvalKey);
  }

  /** Whether a request still waits for votes, as its row says (one not posted yet counts as waiting). */
  async waits(approvalKey: string, reader = this.reader): Promise<boolean> {
    const state = await approvalsAsync.state(reader, approvalKey);
    return state === null || state === 'pending';
  }

  /** Each gate of a request over the receipts read from the ledger now (`tallies`). */
  talliesNow(context: ApprovalContext): Promise<GateTally[]> {
    return this.tallies(context);
  }

  /** Requests still waiting, oldest first. */
  async pending(): Promise<ApprovalContext[]> {
    return (await approvalsAsync.pending(this.reader)).map((r) => r.context as ApprovalContext);
  }

  /** The votes given in Slack on the request's head commit, in the order given. */
  votes(context: ApprovalContext, reader = this.reader): Promise<Vote[]> {
    return approvalsAsync.slackVotes(reader, context.repository, context.number, headOf(context));
  }

  /**
   * A vote from a button or the reject modal; `approvalKey` is the button's value, as sent. A
   * deployment's key is voted on as a deployment, once its agent's revoke signal is read (a
   * revocation holds in the state store before the ledger has it).
   */
  async vote(
    slackUser: string,
    approvalKey: string,
    verdict: 'approve' | 'reject',
    reason = '',
  ): Promise<VoteResult> {
    const ballot = { slackUser, approvalKey, verdict, reason };
    const deployment = parseDeploymentApprovalKey(approvalKey);
    if (!deployment) return castVote(this, this.governance, ballot);
    const signal = await this.deployments.revokeSignal(deployment);
    return castDeploymentVote(this.governance, ballot, deployment, signal);
  }

  /**
   * A Reject click on a deployment key that names no deployment this app asked about (forged, or
   * not exactly a key): refused and recorded now, as a vote on it would be, so no reason is asked
   * for. Null otherwise: the vote is judged when the reason is submitted.
   */
  async refuseUnknownDeploymentReject(slackUser: string, approvalKey: string): Promise<VoteResult | null> {
    if (!approvalKey.startsWith('deployment:')) return null;
    const deployment = parseDeploymentApprovalKey(approvalKey);
    if (deployment && (await this.deployments.latest(deployment)) !== null) return null;
    return this.vote(slackUser, approvalKey, 'reject');
  }

  closeOver(decision: Parameters<typeof closeOver>[1], reader: LedgerReader): ReturnType<typeof closeOver> {
    return closeOver(reader, decision);
  }

  closeForAgent(agentId: string, because: string, reader: LedgerReader): Promise<Closing> {
    return closeForAgent(reader, agentId, because);
  }

  expire(now: Date): Promise<ExpiredRequest[]> {
    return expire(this.governance, now);
  }
}
