import type { DeploymentApprovalKey } from '../core/approval-key.js';
import { type DeploymentVote, deploymentAnswer, tallyDeployment } from '../core/deployment-approval.js';
import type { LedgerEntryInput } from '../core/ledger-entries.js';
import { type Directory, isAgentIdentity, loginKey, personBySlack } from '../core/people.js';
import {
  answerOf,
  type DeploymentWait,
  type RevokeSignal,
  waitOf,
} from '../governance/deployment-approvals.js';
import type { Governance } from '../governance/governance.js';
import type { LedgerReader } from '../ledger/ledger-reader.js';
import type { OutboxMessageInput } from '../ledger/outbox.js';
import { agentsAsync } from '../ledger/queries/agents.js';
import { deploymentsAsync } from '../ledger/queries/deployments.js';
import { type Ballot, clickEntry, type VoteResult } from './approval-votes.js';

/**
 * A vote on a deployment waiting on a gate, from the same buttons as a PR's: checked as a PR vote
 * is (a mapped approver the gate names, never an agent, the owner only where allowed, once per
 * person, the agent still active), recorded with the click, and counted. The click, the vote and,
 * when it settles the gate, the answer to GitHub (`deployment.decided` and its outbox call) are
 * one decided append, so two approvers clicking at once, or a replayed click, answer it once.
 */
export async function castDeploymentVote(
  governance: Governance,
  ballot: Ballot,
  ref: DeploymentApprovalKey,
  signal: RevokeSignal,
): Promise<VoteResult> {
  const directory = governance.directory();
  const login = personBySlack(directory, ballot.slackUser)?.github ?? null;
  // The result of the decision that committed (a decision may be made more than once).
  let result = { accepted: false, reason: 'refused', context: null } as VoteResult;
  await governance.store.appendDecided(async ({ reader, head }) => {
    const wait = waitOf(await deploymentsAsync.latestDeploymentDecision(reader, ref));
    const votes = wait ? await votesOn(reader, wait) : [];
    const now = governance.clock.now();
    const refusal = await refusalOf(reader, directory, wait, votes, login, ballot.verdict, signal, now);
    const click = clickEntry(ballot, login, wait?.request.agentId ?? null, refusal);
    if (refusal !== null || !wait || !login) {
      result = { accepted: false, reason: refusal ?? 'refused', context: null };
      return [click];
    }
    // The click extends the head, the vote follows it: the answer's cause names the vote's seq.
    const counted = countVote(directory, wait, votes, login, ballot, now, head.seq + 2);
    result = counted.result;
    return { entries: [click, ...counted.entries], outbox: counted.outbox };
  });
  return result;
}

/** The votes counted on a request, in the order given (as `DeploymentApprovals.votes`). */
async function votesOn(reader: LedgerReader, wait: DeploymentWait): Promise<DeploymentVote[]> {
  const rows = await deploymentsAsync.deploymentVotes(reader, wait.request.key, wait.seq);
  return rows.map((v) => ({ approver: v.payload.approver, verdict: v.payload.verdict, at: v.ts }));
}

/** Why a vote does not count, in words for the voter; null when it counts. */
async function refusalOf(
  reader: LedgerReader,
  directory: Directory,
  wait: DeploymentWait | null,
  votes: readonly DeploymentVote[],
  login: string | null,
  verdict: Ballot['verdict'],
  signal: RevokeSignal,
  now: Date,
): Promise<string | null> {
  if (!wait) return 'this deployment approval request is not known';
  if (wait.decided.state !== 'waiting') return `this deployment was already ${wait.decided.state}`;
  if (!login)
    return 'you are not an approver: your Slack user is not mapped to a GitHub login in the organisation config';
  const { agentId } = wait.request;
  if (isAgentIdentity(directory, login) || loginKey(login) === loginKey(agentId))
    return 'an agent never approves';
  // Fail closed: a deployment of an agent that is no longer active is never approved by a vote.
  const status = signal === 'revoked' ? 'revoked' : await agentsAsync.agentStatus(reader, agentId);
  if (status !== 'active')
    return `agent ${agentId} is ${status ?? 'unknown'}: its deployment is not approved`;
  if (signal === 'unreadable')
    return `whether agent ${agentId} was revoked cannot be read now; vote again in a moment`;
  const mine = votes.find((v) => loginKey(v.approver) === loginKey(login));
  if (mine) return `${login} already voted on this deployment`;
  const tally = tallyDeployment(
    wait.request,
    [...votes, { approver: login, verdict, at: now.toISOString() }],
    directory,
    now,
  );
  const reasons = tally.notCounted
    .filter((n) => loginKey(n.approver) === loginKey(login))
    .map((n) => n.reason);
  return reasons.length ? [...new Set(reasons)].join('; ') : null;
}

/** The vote, and the answer to GitHub when it settles the gate. */
function countVote(
  directory: Directory,
  wait: DeploymentWait,
  votes: readonly DeploymentVote[],
  login: string,
  ballot: Ballot,
  now: Date,
  voteSeq: number,
): { entries: LedgerEntryInput[]; outbox: OutboxMessageInput[]; result: VoteResult } {
  const d = wait.decided;
  const entries: LedgerEntryInput[] = [
    {
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
    },
  ];
  const tally = tallyDeployment(
    wait.request,
    [...votes, { approver: login, verdict: ballot.verdict, at: now.toISOString() }],
    directory,
    now,
  );
  const answer = deploymentAnswer(tally);
  let outbox: OutboxMessageInput[] = [];
  if (answer) {
    const answered = answerOf(wait, answer, tally.description, login, `vote:${voteSeq}`);
    entries.push(answered.entry);
    outbox = answered.outbox;
  }
  return {
    entries,
    outbox,
    result: {
      accepted: true,
      deployment: { repository: d.repository, runId: d.runId, environment: d.environment },
      outcome: answer ?? 'pending',
      decidedNow: answer !== null,
    },
  };
}
