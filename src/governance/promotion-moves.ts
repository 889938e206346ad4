import type { LedgerEntryInput } from '../core/ledger-entries.js';
import type { AgentStatus } from '../core/lifecycle.js';
import type { OrgConfig } from '../core/org-config.js';
import { approvalsFor } from '../core/promotion.js';
import { adjacentTier, isTierId, type TierId } from '../core/tiers.js';
import type { AgentMetrics } from '../ledger/queries/agents.js';
import { UserError } from '../platform/errors.js';
import type { MoveKind, PromotionStatus } from './promotion-status.js';

/**
 * The tier a move of the agent goes to, one step at a time; a move that is not possible (no tier
 * there, another tier asked for, an agent in the wrong status) is refused with the reason.
 */
export function checkedStep(
  agent: AgentMetrics,
  options: { kind: MoveKind; to?: string | undefined },
): TierId {
  const { kind } = options;
  const { agentId, tier, status } = agent;
  const step =
    kind === 'promotion' ? adjacentTier(tier, 1) : kind === 'demotion' ? adjacentTier(tier, -1) : tier;
  if (!step)
    throw new UserError(
      'no_such_tier',
      `${agentId} is at ${tier}: there is no tier to ${kind === 'promotion' ? 'promote' : 'demote'} it to`,
    );
  const wanted = options.to?.toUpperCase();
  if (wanted !== undefined && (!isTierId(wanted) || wanted !== step)) {
    throw new UserError(
      'one_tier_at_a_time',
      `${agentId} is at ${tier}: a ${kind} goes to ${step}, one tier at a time`,
    );
  }
  if (kind === 'reinstatement' && status === 'active')
    throw new UserError('not_suspended', `${agentId} is active: nothing to reinstate`);
  if (kind !== 'reinstatement' && status !== 'active')
    throw new UserError('agent_not_active', `${agentId} is ${status}: reinstate it first`);
  return step;
}

/** Demotions are a safety measure: they apply at once. Reinstatement is decided like the tier it restores. */
export function approvalsNeeded(
  config: OrgConfig,
  kind: MoveKind,
  step: TierId,
): { required: number; council: boolean } {
  return kind === 'demotion' ? { required: 0, council: false } : approvalsFor(config, step);
}

/** The move itself (a tier or status change) and the promotion's resolution as applied. */
export function appliedEntries(
  p: Pick<PromotionStatus, 'agentId' | 'promotionId' | 'kind' | 'from' | 'to'>,
  actor: string,
  status: AgentStatus,
): LedgerEntryInput[] {
  const { agentId, promotionId, kind, from, to } = p;
  const change: LedgerEntryInput =
    kind === 'reinstatement'
      ? {
          type: 'agent.status_changed',
          agentId,
          actor,
          payload: { from: status, to: 'active', reason: `reinstated (${promotionId})` },
        }
      : { type: 'agent.tier_changed', agentId, actor, payload: { from, to, reason: promotionId, kind } };
  return [
    change,
    {
      type: 'promotion.resolved',
      agentId,
      actor,
      payload: { promotionId, outcome: 'applied', detail: `${from} → ${to}` },
    },
  ];
}

export function rejectedEntry(p: PromotionStatus, approver: string, reason: string): LedgerEntryInput {
  return {
    type: 'promotion.resolved',
    agentId: p.agentId,
    actor: approver,
    payload: {
      promotionId: p.promotionId,
      outcome: 'rejected',
      detail: `rejected by ${approver}${reason ? `: ${reason}` : ''}`,
    },
  };
}
