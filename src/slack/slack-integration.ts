import { App, LogLevel, webApi } from '@slack/bolt';
import type { CircuitBreakerPolicy } from 'cockatiel';
import type { LedgerEntry } from '../core/ledger-entries.js';
import { INTEGRATION_EVENTS, type IntegrationEvent } from '../core/lifecycle.js';
import type { Governance } from '../governance/governance.js';
import type { Promotions } from '../governance/promotions.js';
import type { Revocations } from '../governance/revocations.js';
import { DeliveryLoop } from '../integrations/delivery-loop.js';
import type { IntegrationSubscriber } from '../integrations/integration-manager.js';
import type { FollowerWork } from '../ledger/async-ledger.js';
import type { LedgerReader } from '../ledger/ledger-reader.js';
import type { OutboxMessageInput } from '../ledger/outbox.js';
import { approvalsAsync } from '../ledger/queries/approvals.js';
import type { Logger } from '../platform/logger.js';
import type { Pump } from '../platform/pump.js';
import { createBreaker } from '../platform/resilience.js';
import { CouncilSync } from './council-sync.js';
import { registerListeners } from './listeners/register-listeners.js';
import { SlackApprovals } from './slack-approvals.js';
import { type SlackWebClient, slackDeliverer } from './slack-deliverer.js';
import type { SlackDeps } from './slack-deps.js';
import { SlackNotifications } from './slack-notifications.js';
import { SlackReceiver } from './slack-receiver.js';

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
 * The Slack bot, composed: Bolt on our HTTP server with listeners by kind (`listeners/`), what
 * ledger entries call for in Slack (`slack-notifications`, as an integration subscriber), the
 * outbox deliverer for Web API calls (`slack-deliverer`), the council's user group
 * (`council-sync`) and approval expiry (recorded here; its card follows from the ledger).
 */
export class SlackIntegration implements IntegrationSubscriber {
  readonly name = 'slack';
  readonly events = INTEGRATION_EVENTS;
  readonly app: App;
  readonly receiver: SlackReceiver;
  readonly approvals: SlackApprovals;
  readonly breaker: CircuitBreakerPolicy;
  readonly delivery: DeliveryLoop;
  private readonly client: SlackWebClient;
  private readonly notifications: SlackNotifications;
  private readonly council: CouncilSync;

  constructor(
    private readonly governance: Governance,
    private readonly config: SlackConfig,
    deps: { promotions: Promotions; revocations: Revocations; reevaluate: SlackDeps['reevaluate'] },
    private readonly logger: Logger,
    retry = { initialMs: 1000, maxMs: 60_000 },
    breaker?: CircuitBreakerPolicy,
  ) {
    this.breaker = breaker ?? createBreaker({ halfOpenAfterMs: 10_000, consecutiveFailures: 5 });
    this.receiver = new SlackReceiver({
      signingSecret: config.signingSecret,
      store: governance.store,
      state: governance.state,
      logger,
    });
    // The Web API client's own retries are off: the delivery loop retries, so attempts do not multiply.
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
    const { client, approvals } = this;
    this.delivery = new DeliveryLoop(
      governance.store,
      slackDeliverer({ governance, approvals, client, breaker: this.breaker, retry }),
      logger,
      { claimer: `${governance.claimer}:slack` },
    );
    this.notifications = new SlackNotifications(governance, approvals);
    this.council = new CouncilSync(governance, client);
    registerListeners(this.app, {
      governance,
      ...deps,
      approvals,
      logger,
      messages: { get: (key) => approvalsAsync.slackMessage(governance.store.reader, key) },
      enqueue: (...call) => this.enqueue(...call),
      openView: async (triggerId, view) => {
        await this.breaker.execute(() => client.views.open({ trigger_id: triggerId, view: view as never }));
      },
    });
  }

  get route() {
    return this.receiver.route;
  }

  get pump(): Pump {
    return this.delivery.pump;
  }

  kick(): void {
    this.delivery.pump.kick();
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
    await this.receiver.close();
    await this.delivery.pump.stop();
  }

  /** Makes the Web API calls waiting in the outbox now (the alert lane first). */
  async deliver(): Promise<void> {
    await this.delivery.run();
  }

  /** Reads the council's Slack user group, at most every `everyMs`; records its members when they changed. */
  syncCouncil(now = Date.now(), everyMs = 5 * 60_000): Promise<void> {
    return this.council.sync(now, everyMs);
  }

  /**
   * Closes approval requests past their deadline (expiry never approves); returns how many. Each
   * is recorded in the ledger; its card and, for `escalate`, the admins' message follow from it.
   */
  async expireApprovals(now: Date): Promise<number> {
    return (await this.approvals.expire(now)).length;
  }

  callsFor(
    event: IntegrationEvent,
    data: Record<string, unknown>,
    seq: number,
    at: Date,
    reader: LedgerReader,
  ): Promise<OutboxMessageInput[]> {
    return this.notifications.callsFor(event, data, seq, at, reader);
  }

  callsForEntry(entry: LedgerEntry, reader: LedgerReader): Promise<FollowerWork> {
    return this.notifications.callsForEntry(entry, reader);
  }

  /**
   * Queues a reply to a click or a view (an ephemeral note, an App Home), and wakes the deliverer.
   * A reply is caused by a request, not by a ledger entry: it is tied to none (seq 0). What an
   * entry calls for is queued by the consequences follower instead.
   */
  private async enqueue(
    ...[kind, payload, orderingKey, idempotencyKey]: Parameters<SlackDeps['enqueue']>
  ): Promise<void> {
    await this.governance.store.outbox.enqueueUncaused({
      target: 'slack',
      kind,
      payload,
      orderingKey,
      idempotencyKey,
    });
    this.delivery.pump.kick();
  }
}
