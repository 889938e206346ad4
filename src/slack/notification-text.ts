import type { IntegrationEvent } from '../core/lifecycle.js';

/** One line per integration event, for the notification channels. */
export function notificationText(event: IntegrationEvent, d: Record<string, unknown>): string {
  const agent = `\`${String(d.agentId ?? 'unknown')}\``;
  switch (event) {
    case 'agent_revoked':
      return `:rotating_light: ${agent} was revoked by ${String(d.actor)}: ${String(d.reason)}`;
    case 'violation_detected':
      return `:warning: ${agent}: ${String(d.violation)} (${String(d.severity)}) — ${String(d.details)}; consequence: ${String(d.consequence)}`;
    case 'promotion_requested':
      return `:arrow_up: ${String(d.kind)} of ${agent} ${String(d.from)} → ${String(d.to)} requested by ${String(d.requester)} (${String(d.promotionId)})`;
    case 'promotion_approved':
      return `:white_check_mark: ${agent}: ${String(d.detail)} (${String(d.promotionId)})`;
    case 'approval_required':
      return `:raised_hand: ${agent} needs approval on ${String(d.repository)}#${String(d.number)}: ${String(d.summary)}`;
    default:
      return `${agent}: ${event.replaceAll('_', ' ')}`;
  }
}
