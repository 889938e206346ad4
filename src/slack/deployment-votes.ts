import type { DeploymentApprovalKey } from '../core/approval-key.js';
import { deploymentAnswer } from '../core/deployment-approval.js';
import { type Directory, isAgentIdentity, loginKey, personBySlack } from '../core/people.js';
import type {
  DeploymentApprovals,
  DeploymentWait,
  RevokeSignal,
} from '../governance/deployment-approvals.js';
import type { Governance } from '../governance/governance.js';
import { agentStatus } from '../ledger/queries/agents.js';
import { type Ballot, clickEntry, type VoteResult } from './approval-votes.js';

/**
 * A vote on a deployment waiting on a gate, from the same buttons as a PR's: checked as a PR vote
 * is (a mapped approver the gate names, never an agent, the owner only where allowed, once per
 * person, the agent still active), recorded with the click, and counted. The vote that settles the
 * gate answers GitHub in the same transaction (`deployment.decided` and the outbox call), so two
 * approvers clicking at once, or a replayed click, answer it once.
 */
export function castDeploymentVote(
  governance: Governance,
  deployments: DeploymentApprovals,
  ballot: Ballot,
  ref: DeploymentApprovalKey,
  signal: RevokeSignal,
): VoteResult {
  const directory = governance.directory();
  const login = personBySlack(directory, ballot.slackUser)?.github ?? null;
  const ledger = governance.ledger;
  return ledger.atomically(() => {
    const wait = deployments.latest(ref);
    const refusal = refusalOf(governance, deployments, directory, wait, login, ballot.verdict, signal);
    ledger.append(clickEntry(ballot, login, wait?.request.agentId ?? null, refusal));
    if (refusal !== null || !wait || !login)
      return { accepted: false as const, reason: refusal ?? 'refused', context: null };
    return countVote(governance, deployments, wait, login, ballot);
  });
}

/** Why a vote does not count, in words for the voter; null when it counts. */
function refusalOf(
  governance: Governance,
  deployments: DeploymentApprovals,
  directory: Directory,
  wait: DeploymentWait | null,
  login: string | null,
  verdict: Ballot['verdict'],
  signal: RevokeSignal,
): string | null {
  if (!wait) return 'this deployment approval request is not known';
  if (wait.decided.state !== 'waiting') return `this deployment was already ${wait.decided.state}`;
  if (!login)
    return 'you are not an approver: your Slack user is not mapped to a GitHub login in the organisation config';
  const { agentId } = wait.request;
  if (isAgentIdentity(directory, login) || loginKey(login) === loginKey(agentId))
    return 'an agent never approves';
  // Fail closed: a deployment of an agent that is no longer active is never approved by a vote.
  const status = signal === 'revoked' ? 'revoked' : agentStatus(governance.ledger, agentId);
  if (status !== 'active')
    return `agent ${agentId} is ${status ?? 'unknown'}: its deployment is not approved`;
  if (signal === 'unreadable')
    return `whether agent ${agentId} was revoked cannot be read now; vote again in a moment`;
  const mine = deployments.votes(wait).find((v) => loginKey(v.approver) === loginKey(login));
  if (mine) return `${login} already voted on this deployment`;
  const tally = deployments.tally(wait, governance.clock.now(), [
    { approver: login, verdict, at: governance.clock.now().toISOString() },
  ]);
  const reasons = tally.notCounted
    .filter((n) => loginKey(n.approver) === loginKey(login))
    .map((n) => n.reason);
  return reasons.length ? [...new Set(reasons)].join('; ') : null;
}

/** Records the vote, and answers GitHub when it settles the gate. */
function countVote(
  governance: Governance,
  deployments: DeploymentApprovals,
  wait: DeploymentWait,
  login: string,
  ballot: Ballot,
): VoteResult {
  const d = wait.decided;
  const vote = governance.ledger.append({
    type: 'deployment.vote',
    agentId: wait.request.agentId,
    actor: login,
    payload: {
      approvalKey: wait.request.key,
      repository: d.repository,
      runId: d.runId,
      environment: d.environment,
      requestSeq: wait.seq,
      approver: login,
      verdict: ballot.verdict,
      reason: ballot.reason,
      source: 'slack',
    },
  });
  const tally = deployments.tally(wait);
  const answer = deploymentAnswer(tally);
  if (answer) deployments.answer(wait, answer, tally.description, login, `vote:${vote.seq}`);
  return {
    accepted: true as const,
    deployment: { repository: d.repository, runId: d.runId, environment: d.environment },
    outcome: answer ?? 'pending',
    decidedNow: answer !== null,
  };
}
