import type { IntegrationEvent } from '../core/lifecycle.js';
import { escapeMrkdwn } from './blocks.js';

/**
 * One line per integration event, for the notification channels. Every value is escaped for
 * Slack's mrkdwn (`&`, `<`, `>`, as Slack documents): text that came from an agent, a PR or an
 * admin can then mention nobody (`<!channel>`, `<@U…>`) and link nowhere (`<https://…|…>`).
 */
export function notificationText(event: IntegrationEvent, d: Record<string, unknown>): string {
  const v = (value: unknown) => escapeMrkdwn(String(value));
  // A code span cannot be closed from inside: backticks in an id would end it early.
  const agent = `\`${v(d.agentId ?? 'unknown').replaceAll('`', "'")}\``;
  switch (event) {
    case 'agent_revoked':
      return `:rotating_light: ${agent} was revoked by ${v(d.actor)}: ${v(d.reason)}`;
    case 'violation_detected':
      return `:warning: ${agent}: ${v(d.violation)} (${v(d.severity)}) — ${v(d.details)}; consequence: ${v(d.consequence)}`;
    case 'promotion_requested':
      return `:arrow_up: ${v(d.kind)} of ${agent} ${v(d.from)} → ${v(d.to)} requested by ${v(d.requester)} (${v(d.promotionId)})`;
    case 'promotion_approved':
      return `:white_check_mark: ${agent}: ${v(d.detail)} (${v(d.promotionId)})`;
    case 'approval_required':
      return `:raised_hand: ${agent} needs approval on ${v(d.repository)}#${v(d.number)}: ${v(d.summary)}`;
    default:
      return `${agent}: ${event.replaceAll('_', ' ')}`;
  }
}
