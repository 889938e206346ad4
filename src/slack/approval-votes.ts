import { type DeploymentApprovalKey, parseApprovalKey } from '../core/approval-key.js';
import type { LedgerEntryInput } from '../core/ledger-entries.js';
import { type Directory, isAgentIdentity, loginKey, personBySlack } from '../core/people.js';
import type { GateTally } from '../core/policy/gate-tally.js';
import type { Governance } from '../governance/governance.js';
import { type ApprovalRequestState, approvalQueries } from '../ledger/queries/approvals.js';
import { approvalReceipts } from '../ledger/queries/decisions.js';
import { headOf, requestOutcome } from './approval-request.js';
import type { ApprovalContext, Vote } from './blocks.js';
import type { SlackApprovals } from './slack-approvals.js';

export type VoteResult =
  | { accepted: false; reason: string; context: ApprovalContext | null }
  | {
      accepted: true;
      context: ApprovalContext;
      votes: Vote[];
      outcome: 'pending' | 'approved' | 'rejected';
      /** Each gate's state from the one tally, as the check shows it. */
      tallies: GateTally[];
      /** True for exactly the one vote that decided the request. */
      decidedNow: boolean;
      installationId: number | null;
    }
  | {
      /** A vote on a deployment waiting on a gate: its card and GitHub's answer follow from the ledger. */
      accepted: true;
      deployment: DeploymentApprovalKey;
      outcome: 'pending' | 'approved' | 'rejected';
      decidedNow: boolean;
    };

/** A click on Approve, or a Reject with its reason: the key comes from the button, as sent. */
export interface Ballot {
  slackUser: string;
  approvalKey: string;
  verdict: 'approve' | 'reject';
  reason: string;
}

type Verdict = Ballot['verdict'];
type StoredRequest = { context: ApprovalContext; state: ApprovalRequestState; installationId: number | null };

/**
 * A vote is checked (a mapped approver, allowed for this request, not the agent, not the owner
 * where the gate forbids it, not twice), recorded with the click, and turned into an approval
 * receipt bound to the PR's head, diff and policy. The vote that decides the request does so inside
 * one ledger transaction, so two approvers clicking at once decide it once.
 */
export function castVote(approvals: SlackApprovals, governance: Governance, ballot: Ballot): VoteResult {
  const directory = governance.directory();
  const login = personBySlack(directory, ballot.slackUser)?.github ?? null;
  const requests = approvalQueries<ApprovalContext>(governance.ledger);
  return governance.ledger.atomically(() => {
    // A value that is not a key (a forged button) names no request: refused as an unknown one.
    const row = parseApprovalKey(ballot.approvalKey) ? requests.request(ballot.approvalKey) : null;
    const refusal = refusalOf(approvals, governance, directory, row, login, ballot.verdict);
    governance.ledger.append(clickEntry(ballot, login, row?.context.agentId ?? null, refusal));
    if (refusal !== null || !row || !login)
      return { accepted: false as const, reason: refusal ?? 'refused', context: row?.context ?? null };
    return countVote(approvals, governance, row, login, ballot);
  });
}

/** The click on a card's button, as recorded whether it counts or not (`refusal`: why not). */
export function clickEntry(
  ballot: Ballot,
  login: string | null,
  agentId: string | null,
  refusal: string | null,
): LedgerEntryInput {
  return {
    type: 'approval.click',
    agentId,
    actor: login ?? ballot.slackUser,
    payload: {
      slackUser: ballot.slackUser,
      githubLogin: login,
      action: ballot.verdict,
      approvalKey: ballot.approvalKey,
      accepted: refusal === null,
      reason: refusal ?? ballot.reason,
    },
  };
}

/** Why a vote does not count, in words for the voter; null when it counts. */
function refusalOf(
  approvals: SlackApprovals,
  governance: Governance,
  directory: Directory,
  row: StoredRequest | null,
  login: string | null,
  verdict: Verdict,
): string | null {
  if (!row) return 'this approval request is not known (it may be for an older commit)';
  if (row.state !== 'pending') return `this request was already ${row.state}`;
  if (!login)
    return 'you are not an approver: your Slack user is not mapped to a GitHub login in the organisation config';
  const { context } = row;
  if (isAgentIdentity(directory, login) || loginKey(login) === context.agentId)
    return 'an agent never approves';
  const headSha = headOf(context);
  const mine = approvalReceipts(governance.ledger, context.repository, context.number).find(
    (r) => r.headSha === headSha && loginKey(r.approver) === loginKey(login),
  );
  if (mine)
    return `${login} already voted on this commit (${mine.source === 'github_review' ? 'in a GitHub review' : 'in Slack'})`;
  // The one tally, as if this vote counted: it says whether this person may vote on any gate.
  const tallies = talliesWith(approvals, context, login, verdict);
  const reasons = tallies.map((t) => t.notCounted.filter((n) => n.approver === login).map((n) => n.reason));
  const barred = tallies.length > 0 && reasons.every((r) => r.length > 0);
  return barred ? [...new Set(reasons.flat())].join('; ') : null;
}

/** Records the receipt, and decides the request when this vote settles its gates. */
function countVote(
  approvals: SlackApprovals,
  governance: Governance,
  row: StoredRequest,
  login: string,
  ballot: Ballot,
): VoteResult {
  const { context } = row;
  const ledger = governance.ledger;
  const requests = approvalQueries<ApprovalContext>(ledger);
  const decision = requests.latestDecision(context.repository, context.number);
  ledger.append({
    type: 'approval.recorded',
    agentId: null,
    actor: login,
    payload: {
      repository: context.repository,
      number: context.number,
      approver: login,
      verdict: ballot.verdict,
      gate: null,
      headSha: headOf(context),
      diffHash: context.diffHash ?? decision?.diffHash ?? '',
      policyVersion: context.policyVersion ?? decision?.policyVersion ?? '',
      source: 'slack',
    },
  });
  const after = approvals.tallies(context);
  const outcome = requestOutcome(after);
  if (outcome !== 'pending') {
    requests.setState(ballot.approvalKey, outcome);
    ledger.append({
      type: 'approval.resolved',
      agentId: context.agentId,
      actor: login,
      payload: { approvalId: ballot.approvalKey, outcome },
    });
  }
  return {
    accepted: true as const,
    context,
    votes: approvals.votes(context),
    outcome,
    tallies: after,
    decidedNow: outcome !== 'pending',
    installationId: row.installationId,
  };
}

/** The tallies as they would be with this person's vote added (nothing is written). */
function talliesWith(approvals: SlackApprovals, context: ApprovalContext, login: string, verdict: Verdict) {
  return approvals.tallies(context, new Date(), [
    {
      approver: login,
      verdict,
      gate: null,
      headSha: headOf(context),
      diffHash: context.diffHash ?? '',
      policyVersion: context.policyVersion ?? '',
      source: 'slack',
      at: new Date().toISOString(),
    },
  ]);
}
