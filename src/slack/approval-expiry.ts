import type { Governance } from '../governance/governance.js';
import { approvalRequestBlocks } from './blocks.js';
import type { SlackApprovals } from './slack-approvals.js';
import type { SlackDeps } from './slack-deps.js';

/**
 * Closes approval requests past their deadline. Expiry never approves: the message loses its
 * buttons, and the gate's `on_expiry` either rejects (the check fails, through `onRejected`) or
 * escalates to the admins in the approvals channel (the PR keeps waiting). Returns how many expired.
 */
export function expireApprovals(
  governance: Governance,
  approvals: SlackApprovals,
  enqueue: SlackDeps['enqueue'],
  now: Date,
): number {
  const expired = approvals.expire(now);
  for (const { context, votes } of expired) {
    const message = approvals.message(context.approvalKey);
    if (message) {
      enqueue(
        'chat.update',
        {
          channel: message.channel,
          ts: message.ts,
          text: `Approval for ${context.repository}#${context.number} expired`,
          blocks: approvalRequestBlocks(context, votes, 'expired'),
        },
        `approval:${context.approvalKey}`,
        `expired:${context.approvalKey}`,
      );
    }
    const channel = governance.config.slack.approvals_channel;
    if (context.onExpiry === 'escalate' && channel) {
      const admins = governance.config.slack.admins.map((u) => `<@${u}>`).join(' ');
      enqueue(
        'chat.postMessage',
        {
          channel,
          text: `${admins} escalated: the approval for ${context.repository}#${context.number} by \`${context.agentId}\` expired without a decision; the PR keeps waiting.`,
        },
        `channel:${channel}`,
        `escalated:${context.approvalKey}`,
      );
    }
  }
  return expired.length;
}
