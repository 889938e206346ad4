import { withAgentStatus } from '../core/deployment-gate.js';
import type { LedgerEntryInput } from '../core/ledger-entries.js';
import { renderCheckRunRevoked } from '../core/policy/render-check-run.js';
import { deploymentReviewMessage } from '../github/deployment-gate.js';
import { waitingDeployments } from '../ledger/deployment-queries.js';
import type { LedgerSource } from '../ledger/ledger.js';
import type { OutboxMessageInput } from '../ledger/outbox.js';
import type { OpenPullRequest } from '../ledger/queries/revocations.js';

/** The outbox kind that fails a revoked agent's open PR check and records that effect on delivery. */
export const REVOCATION_CHECK_KIND = 'revocation.fail_check';

/** The call that fails the check of one open PR of a revoked agent; its delivery records the effect. */
export function failCheckCall(
  revocationId: string,
  agentId: string,
  reason: string,
  pr: OpenPullRequest,
): OutboxMessageInput {
  const [owner, repo] = pr.repository.split('/') as [string, string];
  return {
    target: 'github',
    kind: REVOCATION_CHECK_KIND,
    idempotencyKey: `${revocationId}:check:${pr.repository}#${pr.number}`,
    orderingKey: `check:${pr.repository}@${pr.headSha}`,
    payload: {
      installationId: pr.installationId,
      owner,
      repo,
      headSha: pr.headSha,
      name: 'Agent Governance',
      render: renderCheckRunRevoked(agentId, reason),
      number: pr.number,
      revocation: { revocationId, agentId, effect: `check:${pr.repository}#${pr.number}` },
    },
  };
}

/**
 * Deployments of the agent waiting on a gate, rejected now because the agent was revoked or
 * suspended: each recorded with its answer (the status shown is the one judged), and the call that
 * gives GitHub that answer. `cause` keys the calls: doing this again for the same cause sends none twice.
 */
export function deploymentRejections(
  ledger: LedgerSource,
  change: { cause: string; agentId: string; actor: string; reason: string; status: 'revoked' | 'suspended' },
): { entries: LedgerEntryInput[]; calls: OutboxMessageInput[] } {
  const { cause, agentId, actor, reason, status } = change;
  const entries: LedgerEntryInput[] = [];
  const calls: OutboxMessageInput[] = [];
  for (const d of waitingDeployments(ledger, agentId)) {
    const reasons = [
      ...withAgentStatus(d.reasons, status),
      `${agentId} was ${status} by ${actor}: ${reason}`,
    ];
    entries.push({
      type: 'deployment.decided',
      agentId,
      actor,
      payload: { ...d, state: 'rejected', gate: null, reasons },
    });
    const [owner, repo] = d.repository.split('/') as [string, string];
    calls.push(
      deploymentReviewMessage(
        {
          installationId: d.installationId,
          owner,
          repo,
          runId: d.runId,
          environment: d.environment,
          state: 'rejected',
          comment: `Agent Governance: Rejected: ${reasons.join('; ')}.`.slice(0, 1000),
        },
        cause,
      ),
    );
  }
  return { entries, calls };
}
