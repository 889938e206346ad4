import { withAgentStatus } from '../core/deployment-gate.js';
import type { LedgerEntryInput, LedgerPayload } from '../core/ledger-entries.js';
import { renderCheckRunRevoked } from '../core/policy/render-check-run.js';
import { deploymentReviewMessage } from '../github/deployment-gate.js';
import type { OutboxMessageInput } from '../ledger/outbox.js';
import type { OpenPullRequest, RevocationRecord } from '../ledger/queries/revocations.js';
import { revocationStatus } from './revocation-status.js';

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
 * Deployments of the agent waiting on a gate (`waiting`, as `waitingDeployments` reads them),
 * rejected now because the agent was revoked or suspended: each recorded with its answer (the
 * status shown is the one judged), and the call that gives GitHub that answer. `cause` keys the
 * calls: doing this again for the same cause sends none twice.
 */
export function deploymentRejections(
  waiting: readonly LedgerPayload<'deployment.decided'>[],
  change: { cause: string; agentId: string; actor: string; reason: string; status: 'revoked' | 'suspended' },
): { entries: LedgerEntryInput[]; calls: OutboxMessageInput[] } {
  const { cause, agentId, actor, reason, status } = change;
  const entries: LedgerEntryInput[] = [];
  const calls: OutboxMessageInput[] = [];
  for (const d of waiting) {
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

/**
 * The entries that record one effect's outcome of the revocation `revocationId`, and `confirmed`
 * once all hold, given the agent's revocation records as they stand: nothing when the revocation is
 * not the agent's newest, when the effect already held, or when it failed and fails again.
 */
export function effectEntries(
  records: readonly RevocationRecord[],
  effect: { revocationId: string; agentId: string; effect: string; ok: boolean; detail: string },
): LedgerEntryInput[] {
  const { revocationId, agentId, ok, detail } = effect;
  const before = revocationStatus(records);
  if (!before || before.revocationId !== revocationId) return [];
  const now = before.effects[effect.effect];
  if (now === 'held' || (!ok && now === 'failed')) return [];
  const entries: LedgerEntryInput[] = [
    {
      type: 'revocation.effect',
      agentId,
      actor: 'governance',
      payload: { revocationId, effect: effect.effect, ok, detail },
    },
  ];
  const recorded: RevocationRecord = {
    type: 'revocation.effect',
    seq: 0,
    revocationId,
    effect: effect.effect,
    ok,
  };
  const after = revocationStatus([...records, recorded]);
  if (after && !after.confirmed && Object.values(after.effects).every((e) => e === 'held'))
    entries.push({ type: 'revocation.confirmed', agentId, actor: 'governance', payload: { revocationId } });
  return entries;
}
