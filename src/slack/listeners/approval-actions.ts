import type { App } from '@slack/bolt';
import type { VoteResult } from '../approval-votes.js';
import { rejectReasonModal } from '../blocks.js';
import type { SlackDeps } from '../slack-deps.js';

/**
 * Approve, Reject (which asks for a reason in a modal, unless its key names no deployment that
 * asked) and the modal's submission.
 */
export function registerApprovalListeners(app: App, deps: SlackDeps): void {
  app.action('approval_approve', async ({ ack, body, action }) => {
    await ack();
    const b = body as { user: { id: string }; channel?: { id: string } };
    const key = (action as { value?: string }).value ?? '';
    await settle(
      deps,
      await deps.approvals.vote(b.user.id, key, 'approve'),
      b.user.id,
      b.channel?.id ?? null,
      key,
    );
  });

  app.action('approval_reject', async ({ ack, body, action }) => {
    await ack();
    const b = body as { trigger_id: string; user: { id: string }; channel?: { id: string } };
    const key = (action as { value?: string }).value ?? '';
    // A deployment key naming no deployment is refused at the click: no reason is asked for a vote
    // that cannot count.
    const refused = await deps.approvals.refuseUnknownDeploymentReject(b.user.id, key);
    if (refused) return settle(deps, refused, b.user.id, b.channel?.id ?? null, key);
    try {
      await deps.openView(b.trigger_id, rejectReasonModal(key));
    } catch (error) {
      deps.logger.warn({ err: error }, 'could not open the reject modal');
      if (b.channel)
        await deps.enqueue(
          'chat.postEphemeral',
          {
            channel: b.channel.id,
            user: b.user.id,
            text: 'Slack did not open the reason form; click Reject again.',
          },
          `ephemeral:${b.user.id}`,
          `ephemeral:${key}:${Date.now()}`,
        );
    }
  });

  app.view('approval_reject_reason', async ({ ack, body, view }) => {
    const reason = view.state.values.reason?.value?.value?.trim() ?? '';
    if (reason.length < 3)
      return ack({ response_action: 'errors', errors: { reason: 'Say why, in a few words.' } });
    await ack();
    await settle(
      deps,
      await deps.approvals.vote(body.user.id, view.private_metadata, 'reject', reason),
      body.user.id,
      null,
      view.private_metadata,
    );
  });
}

/** Tells the voter, updates the message in place, and lets the decision flow back to GitHub. */
async function settle(
  deps: SlackDeps,
  result: VoteResult,
  user: string,
  channel: string | null,
  key: string,
): Promise<void> {
  const message = await deps.approvals.whereIs(key);
  if (!result.accepted) {
    const where = channel ?? message?.channel;
    if (where)
      await deps.enqueue(
        'chat.postEphemeral',
        { channel: where, user, text: `Not counted: ${result.reason}.` },
        `ephemeral:${user}`,
        `refused:${key}:${user}:${Date.now()}`,
      );
    return;
  }
  // A deployment's answer to GitHub was written with the vote; nothing to evaluate again.
  if ('deployment' in result) return;
  // The card follows from the vote's ledger entry (the consequences follower updates it).
  // Every counted vote moves the check too: the check and the card show the same tally.
  if (result.installationId !== null) {
    await deps
      .reevaluate(result.installationId, result.context.repository, result.context.number)
      .catch((error: unknown) => {
        // The receipt is in the ledger; the reconciliation sweep evaluates the PR again later.
        deps.logger.warn(
          { err: error },
          'GitHub could not be told of the approval now; the reconciliation sweep will',
        );
      });
  }
}
