/**
 * Which integration event a ledger entry is, with the data subscribers get. The one mapping from
 * what happened (the ledger) to what GitHub and Slack are told.
 */
import type { LedgerEntry } from './ledger-entries.js';
import type { IntegrationEvent } from './lifecycle.js';

/**
 * The agent (and the actor) come from the entry, which the ledger took from authentication; they
 * are set after the payload, so nothing in a payload (an agent's own event data) can replace them.
 */
export function integrationEventFor(
  entry: LedgerEntry,
): { event: IntegrationEvent; data: Record<string, unknown> } | null {
  const agentId = entry.agentId;
  switch (entry.type) {
    case 'integration.event':
      return { event: entry.payload.event, data: { ...entry.payload.data, agentId } };
    case 'violation.recorded':
      return { event: 'violation_detected', data: { ...entry.payload, agentId } };
    case 'agent.status_changed':
      return entry.payload.to === 'revoked'
        ? { event: 'agent_revoked', data: { reason: entry.payload.reason, actor: entry.actor, agentId } }
        : null;
    case 'promotion.requested':
      return { event: 'promotion_requested', data: { ...entry.payload, requester: entry.actor, agentId } };
    case 'promotion.resolved':
      return entry.payload.outcome === 'applied'
        ? { event: 'promotion_approved', data: { ...entry.payload, agentId } }
        : null;
    case 'decision.recorded':
      return entry.payload.outcome === 'require_approval'
        ? { event: 'approval_required', data: { ...entry.payload, agentId, seq: entry.seq } }
        : null;
    default:
      return null;
  }
}
