import type { App } from '@slack/bolt';
import { isUserError } from '../../errors.js';
import { promotionRequestBlocks } from '../blocks.js';
import type { SlackDeps } from '../slack-deps.js';

/** Votes on promotion, demotion and reinstatement requests (the council's, for T4). */
export function registerPromotionListeners(app: App, deps: SlackDeps): void {
  for (const verdict of ['approve', 'reject'] as const) {
    app.action(`promotion_${verdict}`, async ({ ack, body, action }) => {
      await ack();
      const b = body as { user: { id: string }; channel?: { id: string } };
      const promotionId = (action as { value?: string }).value ?? '';
      const login = deps.governance.config.approvers.find((a) => a.slack === b.user.id)?.github;
      const tell = (text: string) => {
        if (b.channel)
          deps.enqueue(
            'chat.postEphemeral',
            { channel: b.channel.id, user: b.user.id, text },
            `ephemeral:${b.user.id}`,
            `promo:${promotionId}:${b.user.id}:${Date.now()}`,
          );
      };
      if (!login)
        return tell(
          'Not counted: your Slack user is not mapped to a GitHub login in the organisation config.',
        );
      try {
        const status = await deps.promotions.vote(promotionId, login, verdict, `from Slack by ${b.user.id}`);
        const message = deps.messages.get(`promotion:${promotionId}`);
        if (message) {
          deps.enqueue(
            'chat.update',
            {
              channel: message.channel,
              ts: message.ts,
              text: `${status.promotionId}: ${status.outcome}`,
              blocks: promotionRequestBlocks(status),
            },
            `promotion:${promotionId}`,
            `promotion-update:${promotionId}:${status.approvals.length + status.rejections.length}`,
          );
        }
      } catch (error) {
        if (!isUserError(error)) throw error;
        tell(`Not counted: ${error.message}.`);
      }
    });
  }
}
