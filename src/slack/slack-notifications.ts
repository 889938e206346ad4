import { approvalKeyOf, isApprovalKey } from '../core/approval-key.js';
import type { LedgerEntry, LedgerPayload } from '../core/ledger-entries.js';
import type { IntegrationEvent } from '../core/lifecycle.js';
import type { OrgConfig } from '../core/org-config.js';
import type { Governance } from '../governance/governance.js';
import type { OutboxMessageInput } from '../ledger/outbox.js';
import { alertCall, isAlert } from './alert-lane.js';
import type { ClosedRequest } from './approval-closing.js';
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
 * closed card when a request is over. Run by the consequences follower inside its transaction:
 * synchronous, no I/O, only outbox calls.
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
  callsFor(
    event: IntegrationEvent,
    data: Record<string, unknown>,
    seq: number,
    at = this.governance.clock.now(),
  ): OutboxMessageInput[] {
    const slack = this.governance.config.slack;
    const calls: OutboxMessageInput[] = [];
    if (event === 'approval_required' && slack.approvals_channel && data.agentId)
      calls.push(
        ...this.approvalCalls(slack, data as LedgerPayload<'decision.recorded'> & { agentId: string }, at),
      );
    if (event === 'promotion_requested' && slack.approvals_channel && Number(data.required) > 0)
      calls.push(promotionCall(slack.approvals_channel, data));
    const channel = slack.notify[event];
    if (channel && isAlert(event, data)) {
      const item = typeof data.source === 'string' ? data.source : null;
      const text = notificationText(event, data);
      calls.push(
        alertCall(this.governance.ledger.outbox, event, seq, channel, text, item, this.governance.clock.ms()),
      );
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
  callsForEntry(entry: LedgerEntry): OutboxMessageInput[] {
    if (entry.type === 'deployment.decided' || entry.type === 'deployment.vote')
      return this.deploymentCards.callsForEntry(entry);
    if (entry.type === 'approval.recorded' && entry.payload.source === 'slack')
      return this.votedCard(entry.payload);
    if (entry.type === 'approval.resolved' && entry.payload.outcome === 'expired')
      return this.expiredCalls(entry.payload.approvalId);
    if (entry.type === 'check_run.button') return approversAskedAgain(this.governance, this.approvals, entry);
    let closed: ClosedRequest[] = [];
    if (entry.type === 'decision.recorded') {
      closed = this.approvals.closeOver(entry.payload);
    } else if (entry.type === 'agent.status_changed' && entry.payload.to !== 'active' && entry.agentId) {
      closed = this.approvals.closeForAgent(
        entry.agentId,
        `agent ${entry.agentId} was ${entry.payload.to}: ${entry.payload.reason}`,
      );
    }
    return closed.flatMap((request) => this.closedCard(request));
  }

  /** A vote from Slack moves its card: the votes so far and what each gate still needs. */
  private votedCard(vote: LedgerPayload<'approval.recorded'>): OutboxMessageInput[] {
    if (!isApprovalKey(vote)) return [];
    const key = approvalKeyOf(vote);
    const context = this.approvals.request(key);
    const message = this.approvals.message(key);
    if (!context || !message) return [];
    const votes = this.approvals.votes(context);
    const tallies = this.approvals.tallies(context);
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
  private expiredCalls(key: string): OutboxMessageInput[] {
    const context = this.approvals.request(key);
    if (!context) return [];
    const calls: OutboxMessageInput[] = [];
    const message = this.approvals.message(key);
    if (message)
      calls.push({
        target: 'slack',
        kind: 'chat.update',
        payload: {
          channel: message.channel,
          ts: message.ts,
          text: `Approval for ${context.repository}#${context.number} expired`,
          blocks: approvalRequestBlocks(context, this.approvals.votes(context), 'expired'),
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

  private closedCard({ context, state, because }: ClosedRequest): OutboxMessageInput[] {
    const message = this.approvals.message(context.approvalKey);
    if (!message) return [];
    const tallies = this.approvals.tallies(context);
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
  private approvalCalls(
    slack: SlackSettings,
    decision: LedgerPayload<'decision.recorded'> & { agentId: string },
    at: Date,
  ): OutboxMessageInput[] {
    const hours = decision.gates?.[0]?.expiryHours ?? 72;
    const context = this.approvals.contextFor(decision, new Date(at.getTime() + hours * 3600_000));
    if (!context) return [];
    const calls: OutboxMessageInput[] = [
      {
        target: 'slack',
        kind: 'chat.postMessage',
        idempotencyKey: `slack:approval:${context.approvalKey}`,
        orderingKey: `approval:${context.approvalKey}`,
        payload: {
          channel: slack.approvals_channel,
          text: `Approval needed: ${context.repository}#${context.number} by ${context.agentId}`,
          blocks: approvalRequestBlocks(context, [], 'pending', this.approvals.tallies(context)),
          approval: { context, installationId: decision.installationId ?? null },
        },
      },
    ];
    const digest = slack.approver_digest;
    if (!digest.enabled) return calls;
    const notBefore = new Date(this.governance.clock.ms() + digest.window_seconds * 1000);
    for (const user of this.approvals.approversOf(context)) {
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
