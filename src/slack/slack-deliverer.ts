import type { webApi } from '@slack/bolt';
import type { CircuitBreakerPolicy } from 'cockatiel';
import type { Governance } from '../governance/governance.js';
import type { Deliverer, DeliveryOutcome } from '../integrations/delivery-loop.js';
import type { OutboxPayload, TypedOutboxMessage } from '../integrations/outbox-messages.js';
import { approvalsAsync } from '../ledger/queries/approvals.js';
import { ALERT_LANE, gatherAlerts } from './alert-lane.js';
import { type ApprovalContext, approverDigestBlocks } from './blocks.js';
import type { SlackApprovals } from './slack-approvals.js';

export type SlackWebClient = InstanceType<typeof webApi.WebClient>;

/** What the Slack deliverer works with: the Web API client (its own retries off), behind one breaker. */
export interface SlackDelivery {
  governance: Governance;
  approvals: SlackApprovals;
  client: SlackWebClient;
  breaker: CircuitBreakerPolicy;
  retry: { initialMs: number; maxMs: number };
}

/**
 * Web API calls in order per channel or message, alerts first, retried after `Retry-After`; the
 * client's own retries are off so attempts do not multiply.
 */
export function slackDeliverer(s: SlackDelivery): Deliverer {
  return {
    target: 'slack',
    breaker: s.breaker,
    retry: s.retry,
    lane: ALERT_LANE,
    deliver: async (message): Promise<DeliveryOutcome | undefined> => {
      if (message.kind === 'approver.digest') {
        const ids = await deliverDigest(s, message, message.payload.user);
        return { alsoDelivered: ids };
      }
      if (message.orderingKey.startsWith(ALERT_LANE)) {
        const { args, ids } = await gatherAlerts(s.governance.store.outbox, message);
        await s.client.apiCall('chat.postMessage', args);
        return { alsoDelivered: ids };
      }
      await deliverOne(s, message);
      return undefined;
    },
    // The Web API client reports 429 as a rate-limited error with the delay Slack asked for.
    asHttpError: (error) => {
      const e = error as { code?: string; retryAfter?: number; statusCode?: number };
      if (e.code === 'slack_webapi_rate_limited_error')
        return { status: 429, response: { headers: { 'retry-after': String(e.retryAfter ?? 1) } } };
      if (e.statusCode) return { status: e.statusCode };
      if (e.code === 'slack_webapi_platform_error') return { status: 400 };
      return error;
    },
  };
}

/**
 * One direct message to an approver for every request that waits for them: the digest message
 * that came due gathers all pending ones of that approver, and all are delivered together.
 * Requests decided in the meantime are left out; when none is left, nothing is sent.
 */
async function deliverDigest(s: SlackDelivery, message: TypedOutboxMessage, user: string): Promise<number[]> {
  const gathered = await s.governance.store.outbox.pendingWith('slack', message.orderingKey);
  const waiting: ApprovalContext[] = [];
  const descriptions = new Map<string, string>();
  for (const c of gathered.map((m) => (m.payload as { context: ApprovalContext }).context)) {
    if (!(await s.approvals.waits(c.approvalKey))) continue;
    const tallies = await s.approvals.talliesNow(c);
    // Only requests this approver may still vote on (one may have voted through GitHub meanwhile).
    if (!s.approvals.slackUsersOf(tallies).includes(user)) continue;
    waiting.push(c);
    descriptions.set(
      c.approvalKey,
      tallies
        .filter((t) => t.state !== 'approved')
        .map((t) => t.description.replaceAll('`', ''))
        .join('; '),
    );
  }
  if (waiting.length) {
    await s.client.apiCall('chat.postMessage', {
      channel: user,
      text: `${waiting.length} approval request(s) wait for you`,
      blocks: approverDigestBlocks(
        waiting,
        s.governance.config.slack.approvals_channel ?? null,
        (c) => descriptions.get(c.approvalKey) ?? '',
      ),
    });
  }
  return gathered.map((m) => m.id);
}

/**
 * One call; a posted approval card or promotion card is remembered where it is, for updates in
 * place. An update that names its message by key (and not by channel and ts) is sent where that
 * message was posted, as known now.
 */
async function deliverOne(s: SlackDelivery, message: TypedOutboxMessage): Promise<void> {
  const { approval, messageKey, ...args } = message.payload as OutboxPayload<'chat.postMessage'>;
  if (message.kind === 'chat.update' && messageKey && args.ts === undefined) {
    const where = await approvalsAsync.slackMessage(s.governance.store.reader, messageKey);
    // Retried: the post it updates comes first in its order, and may not be delivered yet.
    if (!where) throw new Error(`the Slack message ${messageKey} to update is not posted yet`);
    Object.assign(args, where);
  }
  const result = (await s.client.apiCall(message.kind, args)) as { channel?: string; ts?: string };
  const channel = result.channel ?? String(args.channel);
  if (approval && result.ts)
    await s.approvals.remember(approval.context, approval.installationId, channel, result.ts);
  if (messageKey && result.ts) {
    await approvalsAsync.rememberSlackMessage(s.governance.store.reader, messageKey, channel, result.ts);
  }
}
