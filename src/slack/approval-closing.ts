import type { Governance } from '../governance/governance.js';
import { approvalQueries } from '../ledger/queries/approvals.js';
import type { ApprovalContext, Vote } from './blocks.js';
import type { SlackApprovals } from './slack-approvals.js';

/** A request closed because it is over, with how it ended and why, in words for its card. */
export interface ClosedRequest {
  context: ApprovalContext;
  state?: 'approved' | 'closed';
  because: string;
}

/** A request past its deadline, with the Slack votes it had. */
export interface ExpiredRequest {
  context: ApprovalContext;
  votes: Vote[];
  installationId: number | null;
}

/**
 * Closes the PR's requests that are over because of a newer decision: another head commit
 * (superseded by a push), or an outcome that no longer waits (approved by a GitHub review,
 * denied, the agent revoked). Returns each closed request with why, once.
 */
export function closeOver(
  governance: Governance,
  decision: { repository: string; number: number; headSha: string; outcome: string; summary: string },
): Required<ClosedRequest>[] {
  const requests = approvalQueries<ApprovalContext>(governance.ledger);
  return governance.ledger.atomically(() => {
    const closed: Required<ClosedRequest>[] = [];
    for (const row of requests.pendingOnPullRequest(decision.repository, decision.number)) {
      const context = row.context;
      const sameHead = row.headSha === decision.headSha;
      if (sameHead && (decision.outcome === 'require_approval' || decision.outcome === 'pending')) continue;
      const state = sameHead && decision.outcome === 'allow' ? ('approved' as const) : ('closed' as const);
      const because = !sameHead
        ? `superseded by a newer commit (${decision.headSha.slice(0, 7)}); the new one needs new approvals`
        : decision.summary;
      close(governance, context, state, because, 'github');
      closed.push({ context, state, because });
    }
    return closed;
  });
}

/** Closes every request of an agent that was revoked or suspended: nothing of it may pass now. */
export function closeForAgent(governance: Governance, agentId: string, because: string): ClosedRequest[] {
  const requests = approvalQueries<ApprovalContext>(governance.ledger);
  return governance.ledger.atomically(() =>
    requests.pendingOfAgent(agentId).map((context) => {
      close(governance, context, 'closed', because, 'governance');
      return { context, because };
    }),
  );
}

/**
 * Closes requests past their deadline: expiry never approves. Returns each one closed with the
 * votes it had, once (inside a write transaction, so two processes do not both close it).
 */
export function expire(approvals: SlackApprovals, governance: Governance, now: Date): ExpiredRequest[] {
  const ledger = governance.ledger;
  const requests = approvalQueries<ApprovalContext>(ledger);
  return ledger.atomically(() => {
    const expired: ExpiredRequest[] = [];
    for (const { context, installationId } of requests.pending()) {
      if (Date.parse(context.expiresAt) > now.getTime()) continue;
      requests.setState(context.approvalKey, 'expired');
      ledger.append({
        type: 'approval.resolved',
        agentId: context.agentId,
        actor: 'expiry',
        payload: { approvalId: context.approvalKey, outcome: 'expired' },
      });
      expired.push({ context, votes: approvals.votes(context), installationId });
    }
    return expired;
  });
}

function close(
  governance: Governance,
  context: ApprovalContext,
  state: 'approved' | 'closed',
  because: string,
  actor: string,
): void {
  approvalQueries<ApprovalContext>(governance.ledger).setState(context.approvalKey, state);
  governance.ledger.append({
    type: 'approval.resolved',
    agentId: context.agentId,
    actor,
    payload: { approvalId: context.approvalKey, outcome: state, reason: because },
  });
}
