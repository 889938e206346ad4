import type { LedgerEntryInput, LedgerPayload } from '../core/ledger-entries.js';
import type { AgentStatus } from '../core/lifecycle.js';
import type { SafetyAction } from '../core/safety-action.js';
import type { LedgerReader } from '../ledger/ledger-reader.js';
import type { OutboxMessageInput } from '../ledger/outbox.js';
import { agentsAsync } from '../ledger/queries/agents.js';
import { deploymentsAsync } from '../ledger/queries/deployments.js';
import { type OpenPullRequest, revocationsAsync } from '../ledger/queries/revocations.js';
import { UserError } from '../platform/errors.js';
import { vaultRevokeMessage } from '../secrets/vault-deliverer.js';
import { deploymentRejections, failCheckCall } from './revocation-calls.js';
import type { SafetyDecision } from './safety-actions.js';

export function alreadyRevoked(agentId: string): UserError {
  return new UserError(
    'already_revoked',
    `${agentId} is already revoked; see \`agov agents show ${agentId}\``,
  );
}

export interface RevocationPlan {
  revocationId: string;
  agentId: string;
  /** Each effect that must hold before the revocation is `confirmed`. */
  effects: string[];
  openPullRequests: { repository: string; number: number; headSha: string; installationId: number }[];
}

/** What a revocation is built from, read from the ledger as the revocation will extend it. */
export interface RevocationFacts {
  status: AgentStatus | null;
  /** The sequence the revocation's first entry will take. */
  nextSeq: number;
  openPullRequests: OpenPullRequest[];
  waitingDeployments: LedgerPayload<'deployment.decided'>[];
}

/** The facts through a decision's reader (`store.appendDecided`), its entries extending `headSeq`. */
export async function factsFrom(
  reader: LedgerReader,
  headSeq: number,
  agentId: string,
): Promise<RevocationFacts> {
  return {
    status: await agentsAsync.agentStatus(reader, agentId),
    nextSeq: headSeq + 1,
    openPullRequests: await revocationsAsync.openPullRequestsOf(reader, agentId),
    waitingDeployments: await deploymentsAsync.waitingDeployments(reader, agentId),
  };
}

/** What revoking the agent does, from the facts: its id (from the next sequence), effects and open PRs. */
export function planOf(agentId: string, facts: RevocationFacts, vault: boolean): RevocationPlan {
  const prs = facts.openPullRequests;
  return {
    revocationId: `rev-${agentId}-${facts.nextSeq}`,
    agentId,
    effects: [
      'revoke_signal',
      ...prs.map((p) => `check:${p.repository}#${p.number}`),
      ...(vault ? ['vault'] : []),
    ],
    openPullRequests: prs,
  };
}

/** The request, the status and the calls, built from the facts the caller read in its transaction. */
export function revocationEntries(
  facts: RevocationFacts,
  vault: boolean,
  agentId: string,
  reason: string,
  actor: string,
  statusChanged: boolean,
  queued?: SafetyAction,
  revocationId?: string,
): SafetyDecision<RevocationPlan> & { outbox: OutboxMessageInput[] } {
  const { status } = facts;
  if (status === 'revoked' && !statusChanged) throw alreadyRevoked(agentId);
  const id = revocationId ?? queued?.revocationId;
  const p = { ...planOf(agentId, facts, vault), ...(id ? { revocationId: id } : {}) };
  const calls: OutboxMessageInput[] = p.openPullRequests.map((pr) =>
    failCheckCall(p.revocationId, agentId, reason, pr),
  );
  if (vault) calls.push(vaultRevokeMessage(agentId, p.revocationId));
  const original = queued ? { requestedAt: queued.requestedAt, journalId: queued.id } : {};
  const entries: LedgerEntryInput[] = [
    {
      type: 'revocation.requested',
      agentId,
      actor,
      payload: { revocationId: p.revocationId, reason, effects: p.effects, ...original },
    },
  ];
  const rejected = deploymentRejections(facts.waitingDeployments, {
    cause: p.revocationId,
    agentId,
    actor,
    reason,
    status: 'revoked',
  });
  entries.push(...rejected.entries);
  calls.push(...rejected.calls);
  if (!statusChanged) {
    entries.push({
      type: 'agent.status_changed',
      agentId,
      actor,
      payload: { from: status as 'active' | 'suspended', to: 'revoked', reason, ...original },
    });
  }
  return { entries, outbox: calls, result: p };
}
