import type { App } from '@slack/bolt';
import { isUserError } from '../../platform/errors.js';
import { promotionRequestBlocks, promotionRequestedText, SUGGESTED_PROMOTION_ACTION } from '../blocks.js';
import type { SlackDeps } from '../slack-deps.js';
import { mayRun } from './agent-command.js';

/**
 * Votes on promotion, demotion and reinstatement requests (the council's, for T4), and the button
 * of a suggested promotion, which turns it into a request as `/agent promote` would.
 */
export function registerPromotionListeners(app: App, deps: SlackDeps): void {
  app.action(SUGGESTED_PROMOTION_ACTION, async ({ ack, body, action }) => {
    await ack();
    const b = body as { user: { id: string }; channel?: { id: string } };
    const [agentId = '', to] = ((action as { value?: string }).value ?? '').split(':');
    const tell = ephemeral(deps, b, `suggestion:${agentId}`);
    if (
      !(await mayRun(deps, b.user.id, 'promote', `/agent promote ${agentId} (suggestion)`, agentId || null))
    )
      return tell('Not requested: the organisation config does not let you run /agent promote.');
    try {
      const p = await deps.promotions.request(agentId, `slack:${b.user.id}`, {
        kind: 'promotion',
        ...(to ? { to } : {}),
        reason: 'suggested by the record',
      });
      await tell(promotionRequestedText(p));
    } catch (error) {
      if (!isUserError(error)) throw error;
      await tell(`Not requested: ${error.message}.`);
    }
  });

  for (const verdict of ['approve', 'reject'] as const) {
    app.action(`promotion_${verdict}`, async ({ ack, body, action }) => {
      await ack();
      const b = body as { user: { id: string }; channel?: { id: string } };
      const promotionId = (action as { value?: string }).value ?? '';
      const login = deps.governance.config.approvers.find((a) => a.slack === b.user.id)?.github;
      const tell = ephemeral(deps, b, `promo:${promotionId}`);
      if (!login)
        return tell(
          'Not counted: your Slack user is not mapped to a GitHub login in the organisation config.',
        );
      try {
        const status = await deps.promotions.vote(promotionId, login, verdict, `from Slack by ${b.user.id}`);
        const message = await deps.messages.get(`promotion:${promotionId}`);
        if (message) {
          await deps.enqueue(
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
        await tell(`Not counted: ${error.message}.`);
      }
    });
  }
}

/** Tells the clicking user, in the channel of the click, only to them (through the outbox, in order). */
function ephemeral(deps: SlackDeps, b: { user: { id: string }; channel?: { id: string } }, about: string) {
  return async (text: string): Promise<void> => {
    if (b.channel)
      await deps.enqueue(
        'chat.postEphemeral',
        { channel: b.channel.id, user: b.user.id, text },
        `ephemeral:${b.user.id}`,
        `${about}:${b.user.id}:${Date.now()}`,
      );
  };
}
