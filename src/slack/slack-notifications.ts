import { approvalKeyOf, isApprovalKey } from '../core/approval-key.js';
import type { LedgerEntry, LedgerPayload } from '../core/ledger-entries.js';
import type { IntegrationEvent } from '../core/lifecycle.js';
import type { OrgConfig } from '../core/org-config.js';
import type { Governance } from '../governance/governance.js';
import type { FollowerWork } from '../ledger/async-ledger.js';
import type { LedgerReader } from '../ledger/ledger-reader.js';
import type { OutboxMessageInput } from '../ledger/outbox.js';
import { alertCall, isAlert } from './alert-lane.js';
import type { ClosedRequest, Closing } from './approval-closing.js';
import { requestOutcome } from './approval-request.js';
import { approversAskedAgain } from './approvers-asked-again.js';
import { approvalRequestBlocks, type PromotionView, promotionRequestBlocks } from './blocks.js';
import { DeploymentCards } from './deployment-cards.js';
import { notificationText } from './notification-text.js';
import type { SlackApprovals } from './slack-approvals.js';

/** The outbox kind of an approver's digest: one per approver and request, delivered together. */
export const APPROVER_DIGEST = 'approver.digest';

type SlackSettings = OrgConfig['slack'];

/**
 * What ledger entries call for in Slack: an approval card (and approver digests) when a decision
 * waits for people, a promotion card, a notification or alert in the configured channel, and the
 * closed card when a request is over. Run by the consequences follower in its decision: reads
 * through its reader only, no other I/O; outbox calls, and the resolutions of the requests it closes.
 */
export class SlackNotifications {
  private readonly deploymentCards: DeploymentCards;

  constructor(
    private readonly governance: Governance,
    private readonly approvals: SlackApprovals,
  ) {
    this.deploymentCards = new DeploymentCards(governance, approvals.deployments);
  }

  /** `at`: when the entry was recorded (a request's deadline counts from the decision, not from now). */
  async callsFor(
    event: IntegrationEvent,
    data: Record<string, unknown>,
    seq: number,
    at: Date,
    reader: LedgerReader,
  ): Promise<OutboxMessageInput[]> {
    const slack = this.governance.config.slack;
    const calls: OutboxMessageInput[] = [];
    if (event === 'approval_required' && slack.approvals_channel && data.agentId)
      calls.push(
        ...(await this.approvalCalls(
          reader,
          slack,
          data as LedgerPayload<'decision.recorded'> & { agentId: string },
          at,
        )),
      );
    if (event === 'promotion_requested' && slack.approvals_channel && Number(data.required) > 0)
      calls.push(promotionCall(slack.approvals_channel, data));
    const channel = slack.notify[event];
    if (channel && isAlert(event, data)) {
      const item = typeof data.source === 'string' ? data.source : null;
      const text = notificationText(event, data);
      const { outbox } = this.governance.store;
      calls.push(await alertCall(outbox, event, seq, channel, text, item, this.governance.clock.ms()));
    } else if (channel) {
      calls.push({
        target: 'slack',
        kind: 'chat.postMessage',
        idempotencyKey: `slack:notify:${event}:${seq}`,
        orderingKey: `channel:${channel}`,
        payload: { channel, text: notificationText(event, data) },
      });
    }
    return calls;
  }

  /**
   * A request is over when the PR moved on (a push, an approving GitHub review, a denial) or its
   * agent was revoked or suspended: its card loses its buttons and says why, and the approver
   * digests stop listing it.
   */
  async callsForEntry(entry: LedgerEntry, reader: LedgerReader): Promise<FollowerWork> {
    if (entry.type === 'deployment.decided' || entry.type === 'deployment.vote')
      return { calls: await this.deploymentCards.callsForEntry(entry, reader) };
    if (entry.type === 'approval.recorded' && entry.payload.source === 'slack')
      return { calls: await this.votedCard(reader, entry.payload) };
    if (entry.type === 'approval.resolved' && entry.payload.outcome === 'expired')
      return { calls: await this.expiredCalls(reader, entry.payload.approvalId) };
    if (entry.type === 'check_run.button')
      return { calls: await approversAskedAgain(this.governance, this.approvals, entry, reader) };
    let closing: Closing | null = null;
    if (entry.type === 'decision.recorded') {
      closing = await this.approvals.closeOver(entry.payload, reader);
    } else if (entry.type === 'agent.status_changed' && entry.payload.to !== 'active' && entry.agentId) {
      const because = `agent ${entry.agentId} was ${entry.payload.to}: ${entry.payload.reason}`;
      closing = await this.approvals.closeForAgent(entry.agentId, because, reader);
    }
    if (!closing || closing.closed.length === 0) return {};
    const calls: OutboxMessageInput[] = [];
    for (const request of closing.closed) calls.push(...(await this.closedCard(reader, request)));
    return { entries: closing.entries, calls };
  }

  /** A vote from Slack moves its card: the votes so far and what each gate still needs. */
  private async votedCard(
    reader: LedgerReader,
    vote: LedgerPayload<'approval.recorded'>,
  ): Promise<OutboxMessageInput[]> {
    if (!isApprovalKey(vote)) return [];
    const key = approvalKeyOf(vote);
    const context = await this.approvals.request(key, reader);
    const message = await this.approvals.whereIs(key, reader);
    if (!context || !message) return [];
    const votes = await this.approvals.votes(context, reader);
    const tallies = await this.approvals.tallies(context, reader);
    const outcome = requestOutcome(tallies);
    return [
      {
        target: 'slack',
        kind: 'chat.update',
        payload: {
          channel: message.channel,
          ts: message.ts,
          text: `Approval for ${context.repository}#${context.number}: ${outcome}`,
          blocks: approvalRequestBlocks(context, votes, outcome, tallies),
        },
        orderingKey: `approval:${key}`,
        idempotencyKey: `update:${key}:${votes.length}`,
      },
    ];
  }

  /**
   * A request past its deadline: its card says expired (expiry never approves) and, for
   * `on_expiry: escalate`, the admins are told in the approvals channel.
   */
  private async expiredCalls(reader: LedgerReader, key: string): Promise<OutboxMessageInput[]> {
    const context = await this.approvals.request(key, reader);
    if (!context) return [];
    const calls: OutboxMessageInput[] = [];
    const message = await this.approvals.whereIs(key, reader);
    if (message)
      calls.push({
        target: 'slack',
        kind: 'chat.update',
        payload: {
          channel: message.channel,
          ts: message.ts,
          text: `Approval for ${context.repository}#${context.number} expired`,
          blocks: approvalRequestBlocks(context, await this.approvals.votes(context, reader), 'expired'),
        },
        orderingKey: `approval:${key}`,
        idempotencyKey: `expired:${key}`,
      });
    const slack = this.governance.config.slack;
    if (context.onExpiry === 'escalate' && slack.approvals_channel) {
      const admins = slack.admins.map((u) => `<@${u}>`).join(' ');
      calls.push({
        target: 'slack',
        kind: 'chat.postMessage',
        payload: {
          channel: slack.approvals_channel,
          text: `${admins} escalated: the approval for ${context.repository}#${context.number} by \`${context.agentId}\` expired without a decision; the PR keeps waiting.`,
        },
        orderingKey: `channel:${slack.approvals_channel}`,
        idempotencyKey: `escalated:${key}`,
      });
    }
    return calls;
  }

  private async closedCard(
    reader: LedgerReader,
    { context, state, because }: ClosedRequest,
  ): Promise<OutboxMessageInput[]> {
    const message = await this.approvals.whereIs(context.approvalKey, reader);
    if (!message) return [];
    const tallies = await this.approvals.tallies(context, reader);
    return [
      {
        target: 'slack',
        kind: 'chat.update',
        payload: {
          channel: message.channel,
          ts: message.ts,
          text: `Approval for ${context.repository}#${context.number}: ${state ?? 'closed'}`,
          blocks: approvalRequestBlocks(context, [], state ?? 'closed', tallies, because),
        },
        orderingKey: `approval:${context.approvalKey}`,
        idempotencyKey: `closed:${context.approvalKey}`,
      },
    ];
  }

  /** The approval card, and a digest entry for each approver when digests are on. */
  private async approvalCalls(
    reader: LedgerReader,
    slack: SlackSettings,
    decision: LedgerPayload<'decision.recorded'> & { agentId: string },
    at: Date,
  ): Promise<OutboxMessageInput[]> {
    const hours = decision.gates?.[0]?.expiryHours ?? 72;
    const expiresAt = new Date(at.getTime() + hours * 3600_000);
    const context = await this.approvals.contextFor(decision, expiresAt, reader);
    if (!context) return [];
    const tallies = await this.approvals.tallies(context, reader);
    const calls: OutboxMessageInput[] = [
      {
        target: 'slack',
        kind: 'chat.postMessage',
        idempotencyKey: `slack:approval:${context.approvalKey}`,
        orderingKey: `approval:${context.approvalKey}`,
        payload: {
          channel: slack.approvals_channel,
          text: `Approval needed: ${context.repository}#${context.number} by ${context.agentId}`,
          blocks: approvalRequestBlocks(context, [], 'pending', tallies),
          approval: { context, installationId: decision.installationId ?? null },
        },
      },
    ];
    const digest = slack.approver_digest;
    if (!digest.enabled) return calls;
    const notBefore = new Date(this.governance.clock.ms() + digest.window_seconds * 1000);
    for (const user of this.approvals.slackUsersOf(tallies)) {
      calls.push({
        target: 'slack',
        kind: APPROVER_DIGEST,
        idempotencyKey: `slack:digest:${user}:${context.approvalKey}`,
        orderingKey: `digest:${user}`,
        notBefore,
        payload: { user, context },
      });
    }
    return calls;
  }
}

/** The promotion card, updated in place as votes come (its message is remembered by key). */
function promotionCall(channel: string, data: Record<string, unknown>): OutboxMessageInput {
  const view = {
    promotionId: String(data.promotionId),
    agentId: String(data.agentId),
    kind: data.kind as PromotionView['kind'],
    from: data.from as PromotionView['from'],
    to: data.to as PromotionView['to'],
    required: Number(data.required),
    council: Boolean(data.council),
    requester: String(data.requester),
    approvals: [],
    rejections: [],
    outcome: 'pending' as const,
  };
  return {
    target: 'slack',
    kind: 'chat.postMessage',
    idempotencyKey: `slack:promotion:${view.promotionId}`,
    orderingKey: `promotion:${view.promotionId}`,
    payload: {
      channel,
      text: `${view.kind} of ${view.agentId} ${view.from} → ${view.to} needs approval`,
      blocks: promotionRequestBlocks(view),
      messageKey: `promotion:${view.promotionId}`,
    },
  };
}
