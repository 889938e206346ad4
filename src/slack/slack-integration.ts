import { App, LogLevel, webApi } from '@slack/bolt';
import type { CircuitBreakerPolicy } from 'cockatiel';
import type { LedgerEntry, LedgerEntryInput, LedgerPayload } from '../core/ledger-entries.js';
import { INTEGRATION_EVENTS, type IntegrationEvent } from '../core/lifecycle.js';
import type { Governance } from '../governance/governance.js';
import type { Promotions } from '../governance/promotions.js';
import type { Revocations } from '../governance/revocations.js';
import { type Deliverer, DeliveryLoop, type DeliveryOutcome } from '../integrations/delivery-loop.js';
import type { IntegrationSubscriber } from '../integrations/integration-manager.js';
import type { OutboxPayload, TypedOutboxMessage } from '../integrations/outbox-messages.js';
import type { OutboxMessage, OutboxMessageInput } from '../ledger/outbox.js';
import { approvalQueries } from '../ledger/queries/approvals.js';
import { councilQueries } from '../ledger/queries/council.js';
import type { Logger } from '../platform/logger.js';
import type { Pump } from '../platform/pump.js';
import { createBreaker } from '../platform/resilience.js';
import { ALERT_LANE, alertCall, gatherAlerts, isAlert } from './alert-lane.js';
import {
  type ApprovalContext,
  approvalRequestBlocks,
  approverDigestBlocks,
  type PromotionView,
  promotionRequestBlocks,
} from './blocks.js';
import { registerAgentCommand } from './listeners/agent-command.js';
import { registerAppHome } from './listeners/app-home.js';
import { registerApprovalListeners } from './listeners/approval-actions.js';
import { registerPromotionListeners } from './listeners/promotion-actions.js';
import { notificationText } from './notification-text.js';
import { SlackApprovals } from './slack-approvals.js';
import type { SlackDeps } from './slack-deps.js';
import { SlackReceiver } from './slack-receiver.js';

/** The outbox kind of an approver's digest: one per approver and request, delivered together. */
export const APPROVER_DIGEST = 'approver.digest';

export interface SlackConfig {
  /** Verifies HTTP requests; absent when the app runs in Socket Mode only. */
  signingSecret: string | undefined;
  botToken: string;
  /** An app-level token (`xapp-…`): Socket Mode, for development behind a firewall. */
  appToken?: string | undefined;
  /** The Web API base (default https://slack.com/api/). */
  apiUrl?: string | undefined;
}

/**
 * The Slack bot: Bolt on our HTTP server, listeners by kind, approval requests and notifications
 * as an integration subscriber, and the outbox deliverer for Web API calls (in order per channel
 * or message, retried after `Retry-After`, behind one breaker; the Web API client's own retries are
 * off so attempts do not multiply).
 */
export class SlackIntegration implements IntegrationSubscriber {
  readonly name = 'slack';
  readonly events = INTEGRATION_EVENTS;
  readonly app: App;
  readonly receiver: SlackReceiver;
  readonly approvals: SlackApprovals;
  readonly breaker: CircuitBreakerPolicy;
  readonly delivery: DeliveryLoop;
  private readonly client: InstanceType<typeof webApi.WebClient>;

  constructor(
    private readonly governance: Governance,
    private readonly config: SlackConfig,
    deps: { promotions: Promotions; revocations: Revocations; reevaluate: SlackDeps['reevaluate'] },
    private readonly logger: Logger,
    private readonly retry = { initialMs: 1000, maxMs: 60_000 },
    breaker?: CircuitBreakerPolicy,
  ) {
    this.breaker = breaker ?? createBreaker({ halfOpenAfterMs: 10_000, consecutiveFailures: 5 });
    this.receiver = new SlackReceiver({
      signingSecret: config.signingSecret,
      ledger: governance.ledger,
      state: governance.state,
      logger,
    });
    const clientOptions = {
      ...(config.apiUrl ? { slackApiUrl: config.apiUrl } : {}),
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      logLevel: LogLevel.ERROR,
    };
    // One workspace, one bot token: authorize without Bolt's auth.test round trip on every event.
    this.app = new App({
      receiver: this.receiver,
      authorize: async () => ({ botToken: config.botToken }),
      logLevel: LogLevel.ERROR,
      clientOptions,
    });
    this.client = new webApi.WebClient(config.botToken, clientOptions);
    this.approvals = new SlackApprovals(governance);
    this.delivery = new DeliveryLoop(governance.ledger, this.deliverer(), logger);
    const listenerDeps: SlackDeps = {
      governance,
      promotions: deps.promotions,
      revocations: deps.revocations,
      approvals: this.approvals,
      logger,
      reevaluate: deps.reevaluate,
      messages: { get: (key) => approvalQueries(governance.ledger).slackMessage(key) },
      enqueue: (kind, payload, orderingKey, idempotencyKey) => {
        const seq = governance.ledger.head().seq;
        governance.ledger.outbox.enqueue(seq, {
          target: 'slack',
          kind,
          payload,
          orderingKey,
          idempotencyKey,
        });
        this.delivery.pump.kick();
      },
      openView: async (triggerId, view) => {
        await this.breaker.execute(() =>
          this.client.views.open({ trigger_id: triggerId, view: view as never }),
        );
      },
    };
    registerAgentCommand(this.app, listenerDeps);
    registerApprovalListeners(this.app, listenerDeps);
    registerAppHome(this.app, listenerDeps);
    registerPromotionListeners(this.app, listenerDeps);
    this.enqueue = listenerDeps.enqueue;
  }

  private readonly enqueue: SlackDeps['enqueue'];

  private councilReadAt = 0;

  /**
   * Reads the council's Slack user group (`usergroups.users.list`), at most every `everyMs`, and
   * records its members when they changed: GitHub logins of the mapped approvers, and the Slack
   * users no approver maps (they cannot vote until mapped).
   */
  async syncCouncil(now = Date.now(), everyMs = 5 * 60_000): Promise<void> {
    const usergroup = this.governance.config.council?.slack_usergroup;
    if (!usergroup || now - this.councilReadAt < everyMs) return;
    // Not behind the delivery breaker: a missing scope here must not stop messages going out.
    const result = (await this.client.usergroups.users.list({ usergroup })) as {
      users?: string[];
    };
    this.councilReadAt = now;
    const logins = new Map(
      this.governance.config.approvers.filter((a) => a.slack).map((a) => [a.slack!, a.github]),
    );
    const users = result.users ?? [];
    const members = [...new Set(users.filter((u) => logins.has(u)).map((u) => logins.get(u)!))].sort();
    const unmapped = users.filter((u) => !logins.has(u)).sort();
    const council = councilQueries(this.governance.ledger);
    await this.governance.record((): LedgerEntryInput[] => {
      const before = council.latestMembership();
      const same =
        before?.usergroup === usergroup &&
        JSON.stringify(before.members) === JSON.stringify(members) &&
        JSON.stringify(before.unmapped) === JSON.stringify(unmapped);
      return same
        ? []
        : [
            {
              type: 'council.membership',
              agentId: null,
              actor: 'slack',
              payload: { usergroup, members, unmapped },
            },
          ];
    });
  }

  /** Starts the deliverer and, in Socket Mode, the connection Slack's requests come over. */
  async start(): Promise<void> {
    this.delivery.pump.start();
    // Not awaited: a Slack that cannot be reached at start is retried by the client, and the
    // service serves everything else meanwhile.
    if (this.config.appToken)
      this.receiver
        .connectSocketMode(this.config.appToken, this.config.apiUrl)
        .catch((error: unknown) => this.logger.error({ err: error }, 'Slack Socket Mode did not connect'));
  }

  async stop(): Promise<void> {
    await this.receiver.disconnectSocketMode();
    await this.delivery.pump.stop();
  }

  /**
   * Closes approval requests past their deadline. Expiry never approves: the message loses its
   * buttons, and the gate's `on_expiry` either rejects (the check fails, through `onRejected`) or
   * escalates to the admins in the approvals channel (the PR keeps waiting).
   */
  expireApprovals(now: Date): number {
    const expired = this.approvals.expire(now);
    for (const { context, votes } of expired) {
      const message = this.approvals.message(context.approvalKey);
      if (message) {
        this.enqueue(
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
      if (context.onExpiry === 'escalate') {
        const channel = this.governance.config.slack.approvals_channel;
        const admins = this.governance.config.slack.admins.map((u) => `<@${u}>`).join(' ');
        if (channel) {
          this.enqueue(
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
    }
    return expired.length;
  }

  /**
   * A request is over when the PR moved on (a push, an approving GitHub review, a denial) or its
   * agent was revoked or suspended: its card loses its buttons and says why, and the approver
   * digests stop listing it. Run by the consequences follower, in its transaction.
   */
  callsForEntry(entry: LedgerEntry): OutboxMessageInput[] {
    let closed: { context: ApprovalContext; state?: 'approved' | 'closed'; because: string }[] = [];
    if (entry.type === 'decision.recorded') {
      const p = entry.payload;
      closed = this.approvals.closeOver(p);
    } else if (entry.type === 'agent.status_changed' && entry.payload.to !== 'active' && entry.agentId) {
      closed = this.approvals.closeForAgent(
        entry.agentId,
        `agent ${entry.agentId} was ${entry.payload.to}: ${entry.payload.reason}`,
      );
    }
    const calls: OutboxMessageInput[] = [];
    for (const { context, state, because } of closed) {
      const message = this.approvals.message(context.approvalKey);
      if (!message) continue;
      calls.push({
        target: 'slack',
        kind: 'chat.update',
        payload: {
          channel: message.channel,
          ts: message.ts,
          text: `Approval for ${context.repository}#${context.number}: ${state ?? 'closed'}`,
          blocks: approvalRequestBlocks(
            context,
            [],
            state ?? 'closed',
            this.approvals.tallies(context),
            because,
          ),
        },
        orderingKey: `approval:${context.approvalKey}`,
        idempotencyKey: `closed:${context.approvalKey}`,
      });
    }
    return calls;
  }

  get route() {
    return this.receiver.route;
  }

  kick(): void {
    this.delivery.pump.kick();
  }

  get pump(): Pump {
    return this.delivery.pump;
  }

  callsFor(event: IntegrationEvent, data: Record<string, unknown>, seq: number): OutboxMessageInput[] {
    const calls: OutboxMessageInput[] = [];
    const slack = this.governance.config.slack;
    if (event === 'approval_required' && slack.approvals_channel && data.agentId) {
      const decision = data as LedgerPayload<'decision.recorded'> & { agentId: string };
      const hours = decision.gates?.[0]?.expiryHours ?? 72;
      const context = this.approvals.contextFor(decision, new Date(Date.now() + hours * 3600_000));
      if (context) {
        calls.push({
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
        });
        const digest = slack.approver_digest;
        if (digest.enabled) {
          const notBefore = new Date(Date.now() + digest.window_seconds * 1000);
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
        }
      }
    }
    if (event === 'promotion_requested' && slack.approvals_channel && Number(data.required) > 0) {
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
      calls.push({
        target: 'slack',
        kind: 'chat.postMessage',
        idempotencyKey: `slack:promotion:${view.promotionId}`,
        orderingKey: `promotion:${view.promotionId}`,
        payload: {
          channel: slack.approvals_channel,
          text: `${view.kind} of ${view.agentId} ${view.from} → ${view.to} needs approval`,
          blocks: promotionRequestBlocks(view),
          messageKey: `promotion:${view.promotionId}`,
        },
      });
    }
    const channel = slack.notify[event];
    if (channel && isAlert(event, data)) {
      const item = typeof data.source === 'string' ? data.source : null;
      const text = notificationText(event, data);
      calls.push(alertCall(this.governance.ledger.outbox, event, seq, channel, text, item, Date.now()));
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

  /** Makes the Web API calls waiting in the outbox now (the alert lane first). */
  async deliver(): Promise<void> {
    await this.delivery.run();
  }

  /**
   * Web API calls in order per channel or message, alerts first, retried after `Retry-After`; the
   * client's own retries are off so attempts do not multiply.
   */
  private deliverer(): Deliverer {
    return {
      target: 'slack',
      breaker: this.breaker,
      retry: this.retry,
      lane: ALERT_LANE,
      deliver: async (message): Promise<DeliveryOutcome | undefined> => {
        if (message.kind === 'approver.digest') {
          const ids = await this.deliverDigest(message, message.payload.user);
          return { alsoDelivered: ids };
        }
        if (message.orderingKey.startsWith(ALERT_LANE)) {
          const { args, ids } = gatherAlerts(this.governance.ledger.outbox, message);
          await this.client.apiCall('chat.postMessage', args);
          return { alsoDelivered: ids };
        }
        await this.deliverOne(message);
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
  private async deliverDigest(message: TypedOutboxMessage, user: string): Promise<number[]> {
    const gathered = this.governance.ledger.outbox.pendingWith('slack', message.orderingKey);
    const waiting = gathered
      .map((m) => (m.payload as { context: ApprovalContext }).context)
      .filter((c) => this.approvals.isPending(c.approvalKey))
      // Only requests this approver may still vote on (one may have voted through GitHub meanwhile).
      .filter((c) => this.approvals.approversOf(c).includes(user));
    if (waiting.length) {
      await this.client.apiCall('chat.postMessage', {
        channel: user,
        text: `${waiting.length} approval request(s) wait for you`,
        blocks: approverDigestBlocks(waiting, this.governance.config.slack.approvals_channel ?? null, (c) =>
          this.approvals
            .tallies(c)
            .filter((t) => t.state !== 'approved')
            .map((t) => t.description.replaceAll('`', ''))
            .join('; '),
        ),
      });
    }
    return gathered.map((m) => m.id);
  }

  private async deliverOne(message: TypedOutboxMessage): Promise<void> {
    const { approval, messageKey, ...args } = message.payload as OutboxPayload<'chat.postMessage'>;
    const result = (await this.client.apiCall(message.kind, args)) as { channel?: string; ts?: string };
    const channel = result.channel ?? String(args.channel);
    if (approval && result.ts)
      this.approvals.remember(approval.context, approval.installationId, channel, result.ts);
    if (messageKey && result.ts) {
      approvalQueries(this.governance.ledger).rememberSlackMessage(messageKey, { channel, ts: result.ts });
    }
  }
}
