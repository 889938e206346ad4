import { type DeploymentApprovalKey, parseApprovalKey } from '../core/approval-key.js';
import type { LedgerEntryInput } from '../core/ledger-entries.js';
import { type Directory, isAgentIdentity, loginKey, personBySlack } from '../core/people.js';
import type { ApprovalReceipt } from '../core/policy/decision.js';
import type { GateTally } from '../core/policy/gate-tally.js';
import type { Governance } from '../governance/governance.js';
import type { LedgerReader } from '../ledger/ledger-reader.js';
import { type ApprovalRequestState, approvalsAsync } from '../ledger/queries/approvals.js';
import { decisionsAsync } from '../ledger/queries/decisions.js';
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
type Counted = Extract<VoteResult, { context: ApprovalContext; votes: Vote[] }>;

/**
 * A vote is checked (a mapped approver, allowed for this request, not the agent, not the owner
 * where the gate forbids it, not twice), recorded with the click, and turned into an approval
 * receipt bound to the PR's head, diff and policy. The click, the receipt and the request's
 * resolution are one decided append, so two approvers clicking at once decide it once: the second
 * decision sees the first one's entries.
 */
export async function castVote(
  approvals: SlackApprovals,
  governance: Governance,
  ballot: Ballot,
): Promise<VoteResult> {
  const directory = governance.directory();
  const login = personBySlack(directory, ballot.slackUser)?.github ?? null;
  // The result of the decision that committed (a decision may be made more than once).
  let result = { accepted: false, reason: 'refused', context: null } as VoteResult;
  await governance.store.appendDecided(async ({ reader }) => {
    // A value that is not a key (a forged button) names no request: refused as an unknown one.
    const row = parseApprovalKey(ballot.approvalKey)
      ? ((await approvalsAsync.request(reader, ballot.approvalKey)) as StoredRequest | null)
      : null;
    const receipts = row
      ? await decisionsAsync.approvalReceipts(reader, row.context.repository, row.context.number)
      : [];
    const refusal = refusalOf(approvals, directory, row, receipts, login, ballot.verdict);
    const click = clickEntry(ballot, login, row?.context.agentId ?? null, refusal);
    if (refusal !== null || !row || !login) {
      result = { accepted: false, reason: refusal ?? 'refused', context: row?.context ?? null };
      return [click];
    }
    const counted = await countVote(approvals, reader, row, receipts, login, ballot);
    result = counted.result;
    return [click, ...counted.entries];
  });
  // The request's state row follows the resolution committed above (a vote deciding meanwhile
  // reads the request's state from the ledger first, `approvalsAsync.request`).
  if (result.accepted && 'context' in result && result.decidedNow)
    await approvalsAsync.setState(
      governance.store.reader,
      result.outcome as ApprovalRequestState,
      ballot.approvalKey,
    );
  return result;
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
  directory: Directory,
  row: StoredRequest | null,
  receipts: readonly ApprovalReceipt[],
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
  const mine = receipts.find((r) => r.headSha === headSha && loginKey(r.approver) === loginKey(login));
  if (mine)
    return `${login} already voted on this commit (${mine.source === 'github_review' ? 'in a GitHub review' : 'in Slack'})`;
  // The one tally, as if this vote counted: it says whether this person may vote on any gate.
  const tallies = approvals.talliesOver(context, [...receipts, receiptOf(context, login, verdict, null)]);
  const reasons = tallies.map((t) => t.notCounted.filter((n) => n.approver === login).map((n) => n.reason));
  const barred = tallies.length > 0 && reasons.every((r) => r.length > 0);
  return barred ? [...new Set(reasons.flat())].join('; ') : null;
}

/** The receipt, and the request's resolution when this vote settles its gates. */
async function countVote(
  approvals: SlackApprovals,
  reader: LedgerReader,
  row: StoredRequest,
  receipts: readonly ApprovalReceipt[],
  login: string,
  ballot: Ballot,
): Promise<{ entries: LedgerEntryInput[]; result: Counted }> {
  const { context } = row;
  const decision = await approvalsAsync.latestDecision(reader, context.repository, context.number);
  const receipt = receiptOf(context, login, ballot.verdict, decision);
  const entries: LedgerEntryInput[] = [
    {
      type: 'approval.recorded',
      agentId: null,
      actor: login,
      payload: {
        repository: context.repository,
        number: context.number,
        approver: login,
        verdict: ballot.verdict,
        gate: null,
        headSha: receipt.headSha,
        diffHash: receipt.diffHash,
        policyVersion: receipt.policyVersion,
        source: 'slack',
      },
    },
  ];
  // The tally and the votes as they stand once this receipt is recorded.
  const after = approvals.talliesOver(context, [...receipts, receipt]);
  const outcome = requestOutcome(after);
  if (outcome !== 'pending')
    entries.push({
      type: 'approval.resolved',
      agentId: context.agentId,
      actor: login,
      payload: { approvalId: ballot.approvalKey, outcome },
    });
  const before = await approvalsAsync.slackVotes(reader, context.repository, context.number, headOf(context));
  return {
    entries,
    result: {
      accepted: true,
      context,
      votes: [...before, { approver: login, verdict: ballot.verdict }],
      outcome,
      tallies: after,
      decidedNow: outcome !== 'pending',
      installationId: row.installationId,
    },
  };
}

/** This person's receipt on the request's head, bound to its diff and policy (the decision's when the request has none). */
function receiptOf(
  context: ApprovalContext,
  login: string,
  verdict: Verdict,
  decision: { diffHash?: string | null; policyVersion?: string | null } | null,
): ApprovalReceipt {
  return {
    approver: login,
    verdict,
    gate: null,
    headSha: headOf(context),
    diffHash: context.diffHash ?? decision?.diffHash ?? '',
    policyVersion: context.policyVersion ?? decision?.policyVersion ?? '',
    source: 'slack',
    at: new Date().toISOString(),
  };
}
