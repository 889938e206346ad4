import type { LedgerEntryInput } from '../core/ledger-entries.js';
import type { Governance } from '../governance/governance.js';
import type { LedgerReader } from '../ledger/ledger-reader.js';
import { approvalsAsync } from '../ledger/queries/approvals.js';
import { headOf } from './approval-request.js';
import type { ApprovalContext, Vote } from './blocks.js';

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

/** Requests closed by a decision, and the entries that resolve them (to be appended by the caller). */
export interface Closing<R extends ClosedRequest = ClosedRequest> {
  closed: R[];
  entries: LedgerEntryInput[];
}

/**
 * Closes the PR's requests that are over because of a newer decision: another head commit
 * (superseded by a push), or an outcome that no longer waits (approved by a GitHub review,
 * denied, the agent revoked). Read through a decision's reader: each closed request with why, and
 * its resolution entry for the caller's decision to append (its state row follows once that is
 * committed; a request resolved in the ledger is over already, whatever its row says).
 */
export async function closeOver(
  reader: LedgerReader,
  decision: { repository: string; number: number; headSha: string; outcome: string; summary: string },
): Promise<Closing<Required<ClosedRequest>>> {
  const closing: Closing<Required<ClosedRequest>> = { closed: [], entries: [] };
  for (const row of await approvalsAsync.pendingOnPullRequest(reader, decision.repository, decision.number)) {
    const context = row.context as ApprovalContext;
    const sameHead = row.headSha === decision.headSha;
    if (sameHead && (decision.outcome === 'require_approval' || decision.outcome === 'pending')) continue;
    const state = sameHead && decision.outcome === 'allow' ? ('approved' as const) : ('closed' as const);
    const because = !sameHead
      ? `superseded by a newer commit (${decision.headSha.slice(0, 7)}); the new one needs new approvals`
      : decision.summary;
    closing.entries.push(resolution(context, state, because, 'github'));
    closing.closed.push({ context, state, because });
  }
  return closing;
}

/** Closes every request of an agent that was revoked or suspended: nothing of it may pass now. */
export async function closeForAgent(
  reader: LedgerReader,
  agentId: string,
  because: string,
): Promise<Closing> {
  const closing: Closing = { closed: [], entries: [] };
  for (const pending of await approvalsAsync.pendingOfAgent(reader, agentId)) {
    const context = pending as ApprovalContext;
    closing.entries.push(resolution(context, 'closed', because, 'governance'));
    closing.closed.push({ context, because });
  }
  return closing;
}

/**
 * Closes requests past their deadline: expiry never approves. Returns each one closed with the
 * votes it had, once: the resolutions are one decided append, so two processes do not both close
 * one (the pending requests are read ledger first: one resolved before its row says so is not).
 */
export async function expire(governance: Governance, now: Date): Promise<ExpiredRequest[]> {
  const { store } = governance;
  let expired: ExpiredRequest[] = [];
  await store.appendDecided(async ({ reader }) => {
    expired = [];
    const entries: LedgerEntryInput[] = [];
    for (const row of await approvalsAsync.pending(reader)) {
      const context = row.context as ApprovalContext;
      if (Date.parse(context.expiresAt) > now.getTime()) continue;
      entries.push({
        type: 'approval.resolved',
        agentId: context.agentId,
        actor: 'expiry',
        payload: { approvalId: context.approvalKey, outcome: 'expired' },
      });
      const votes = await approvalsAsync.slackVotes(
        reader,
        context.repository,
        context.number,
        headOf(context),
      );
      expired.push({ context, votes, installationId: row.installationId });
    }
    return entries;
  });
  // The rows follow the resolutions committed above.
  for (const { context } of expired)
    await approvalsAsync.setState(store.reader, 'expired', context.approvalKey);
  return expired;
}

function resolution(
  context: ApprovalContext,
  state: 'approved' | 'closed',
  because: string,
  actor: string,
): LedgerEntryInput {
  return {
    type: 'approval.resolved',
    agentId: context.agentId,
    actor,
    payload: { approvalId: context.approvalKey, outcome: state, reason: because },
  };
}
