/**
 * A deployment waiting on a gate, as people vote on it: the one tally (`tallyGate`) over the votes
 * given on it, and what that tally answers GitHub. Pure: the adapter reads the request and its
 * votes from the ledger and passes the clock's `now`.
 *
 * A deployment has no commit, diff or policy version to bind a vote to: a vote is bound to the
 * request itself (it is stored with the entry that began the wait). Everything else is the PR
 * gate's rule: an agent never approves, the agent's owner only where the gate allows it, only the
 * gate's named approvers (an empty list: nobody), one verdict per person whatever the channel, a
 * rejection rejects, a council's quorum and veto, and expiry never approves.
 */
import type { Directory } from './people.js';
import type { ApprovalReceipt } from './policy/decision.js';
import { type GateRule, type GateTally, tallyGate } from './policy/gate-tally.js';

/** A deployment's request for people: which gate, whose agent, since when. */
export interface DeploymentRequest {
  /** The deployment's approval key (`deploymentApprovalKeyOf`). */
  key: string;
  agentId: string;
  /** The agent's owner: never counted unless the gate allows owners. */
  owner: string | null;
  rule: GateRule;
  /** When the deployment began to wait: the gate's `expiry_hours` run from here. */
  requestedAt: string;
}

export interface DeploymentVote {
  approver: string;
  verdict: 'approve' | 'reject';
  at: string;
}

/** The gate's tally over the votes given on this request (and `extra`, to ask "what if"). */
export function tallyDeployment(
  request: DeploymentRequest,
  votes: readonly DeploymentVote[],
  directory: Directory,
  now: Date,
): GateTally {
  const receipts: ApprovalReceipt[] = votes.map((v) => ({
    approver: v.approver,
    verdict: v.verdict,
    gate: null,
    headSha: '',
    diffHash: '',
    policyVersion: '',
    source: 'slack',
    at: v.at,
  }));
  const subject = {
    headSha: null,
    diffHash: null,
    policyVersion: null,
    owner: request.owner,
    excluded: [],
    requestedAt: request.requestedAt,
  };
  return tallyGate(request.rule, receipts, subject, directory, now);
}

/**
 * What the tally answers GitHub: `approved` once the gate is; `rejected` when it was rejected or
 * vetoed, expired (`on_expiry: reject`), or nobody left may approve it (an empty approver list
 * included): a deployment is not left hanging on a gate nobody can open. Null while it waits
 * (also past its deadline under `on_expiry: escalate`).
 */
export function deploymentAnswer(tally: GateTally): 'approved' | 'rejected' | null {
  if (tally.state === 'approved') return 'approved';
  if (tally.state === 'waiting') return null;
  return 'rejected';
}
