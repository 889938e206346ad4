/**
 * Which integration event a ledger entry is, with the data subscribers get. The one mapping from
 * what happened (the ledger) to what GitHub and Slack are told.
 */
import type { LedgerEntry } from './ledger-entries.js';
import type { IntegrationEvent } from './lifecycle.js';

export function integrationEventFor(
  entry: LedgerEntry,
): { event: IntegrationEvent; data: Record<string, unknown> } | null {
  const agentId = entry.agentId;
  switch (entry.type) {
    case 'integration.event':
      return { event: entry.payload.event, data: { agentId, ...entry.payload.data } };
    case 'violation.recorded':
      return { event: 'violation_detected', data: { agentId, ...entry.payload } };
    case 'agent.status_changed':
      return entry.payload.to === 'revoked'
        ? { event: 'agent_revoked', data: { agentId, reason: entry.payload.reason, actor: entry.actor } }
        : null;
    case 'promotion.requested':
      return { event: 'promotion_requested', data: { agentId, requester: entry.actor, ...entry.payload } };
    case 'promotion.resolved':
      return entry.payload.outcome === 'applied'
        ? { event: 'promotion_approved', data: { agentId, ...entry.payload } }
        : null;
    case 'decision.recorded':
      return entry.payload.outcome === 'require_approval'
        ? { event: 'approval_required', data: { agentId, seq: entry.seq, ...entry.payload } }
        : null;
    default:
      return null;
  }
}
