import type { CircuitBreakerPolicy } from 'cockatiel';
import type { Probot } from 'probot';
import type { Governance } from '../governance/governance.js';
import { DeliveryLoop } from '../integrations/delivery-loop.js';
import type { InboxQueue } from '../ledger/inbox-queue.js';
import { systemClock } from '../platform/clock.js';
import type { Route } from '../platform/http-server.js';
import type { Logger } from '../platform/logger.js';
import { ALWAYS, type PeriodicGate } from '../platform/periodic-gate.js';
import { Pump } from '../platform/pump.js';
import type { BodyBudget, BodyReadLimits } from '../platform/read-body.js';
import { createBreaker } from '../platform/resilience.js';
import { governanceApp } from './app.js';
import { createProbot } from './create-probot.js';
import { githubDeliverer } from './github-deliverer.js';
import { InboxWorker } from './inbox-worker.js';
import { PolicyCache } from './policy-cache.js';
import { PullRequestGate } from './pull-request-gate.js';
import { targetOf } from './pull-request-target.js';
import { RateLimits } from './rate-limits.js';
import type { GithubConfig } from './read-github-config.js';
import { reconcileOpenPullRequests } from './reconcile.js';
import { WebhookPressure } from './webhook-pressure.js';
import { createWebhookReceiver, githubBodyBudget } from './webhook-receiver.js';
import { pullRequestSchema } from './webhook-schemas.js';

/** How long a replica holds a stored delivery it works on before another may take it over. */
const INBOX_LEASE_MS = 60_000;

export const WEBHOOK_PATH = '/api/github/webhooks';

export interface GithubIntegrationOptions {
  /** How often the reconciliation sweep looks for open agent PRs with a missing or stale check. */
  reconcileIntervalMs?: number;
  /** Runs the sweep only while this replica holds the periodic-work lease (default: always). */
  periodic?: PeriodicGate;
  retry?: { initialMs: number; maxMs: number };
  breaker?: { halfOpenAfterMs: number; consecutiveFailures: number };
  /** A decision slower than this shows `in_progress` before its final check run (default 1 s). */
  inProgressAfterMs?: number;
  /**
   * Why the check's "Ask approvers again" cannot reach anyone in Slack (recorded with each such
   * click); null or absent: approvers are reminded in the approvals channel.
   */
  slackUnavailable?: string | null;
  /** How fast unsigned webhook bodies must arrive, and the clock that times them (for tests). */
  bodies?: Partial<BodyReadLimits> & { now?: () => number };
}

/**
 * The GitHub App: the webhook route, the inbox worker that processes stored deliveries through the
 * Probot handlers, the outbox deliverer for check runs, and the reconciliation sweep. All calls to
 * GitHub share one circuit breaker; Octokit's own retries are off so attempts do not multiply.
 */
export class GithubIntegration {
  readonly probot: Probot;
  readonly breaker: CircuitBreakerPolicy;
  readonly route: Route;
  /** GitHub's rate limit as its responses report it, per installation. */
  readonly rateLimits = new RateLimits();
  /** The unsigned webhook bodies being read. */
  readonly bodies: BodyBudget;
  private readonly inbox: InboxQueue;
  private readonly inboxPump: Pump;
  private readonly delivery: DeliveryLoop;
  private readonly reconcilePump: Pump;
  private readonly worker: InboxWorker;
  private readonly retry: { initialMs: number; maxMs: number };
  private readonly publicUrl: string | null;

  constructor(
    private readonly governance: Governance,
    config: GithubConfig,
    private readonly logger: Logger,
    options: GithubIntegrationOptions = {},
  ) {
    this.retry = options.retry ?? { initialMs: 1000, maxMs: 5 * 60_000 };
    this.publicUrl = config.publicUrl ?? null;
    this.breaker = createBreaker(options.breaker ?? { halfOpenAfterMs: 10_000, consecutiveFailures: 5 });
    this.probot = createProbot(config, logger, this.rateLimits);
    // Deliveries this replica holds are its own again after a restart (the same name).
    this.inbox = governance.store.inbox.queue(governance.claimer, INBOX_LEASE_MS);
    const pressure = new WebhookPressure();
    const onError = (error: unknown) => logger.error({ err: error }, 'GitHub worker failed; will retry');
    this.worker = new InboxWorker({
      inbox: this.inbox,
      probot: this.probot,
      breaker: this.breaker,
      logger,
      retry: this.retry,
      pressure,
    });
    this.inboxPump = new Pump(() => this.worker.run(), 2000, onError);
    this.delivery = this.deliveryLoop();
    const periodic = options.periodic ?? ALWAYS;
    this.reconcilePump = new Pump(
      () => periodic('reconciliation sweep', () => this.reconcile()),
      options.reconcileIntervalMs ?? 10 * 60_000,
      onError,
    );
    this.gate = new PullRequestGate(
      governance,
      logger,
      () => this.delivery.pump.kick(),
      this.policies(governance),
      {
        ...(options.inProgressAfterMs !== undefined ? { inProgressAfterMs: options.inProgressAfterMs } : {}),
      },
    );
    void this.probot.load(
      governanceApp(
        {
          governance,
          gate: this.gate,
          onOutbox: () => this.delivery.pump.kick(),
          appId: Number.isSafeInteger(Number(config.appId)) ? Number(config.appId) : null,
          slackUnavailable: options.slackUnavailable ?? null,
        },
        (deliveryId) => this.worker.seqOf(deliveryId),
      ),
    );
    this.bodies = githubBodyBudget(options.bodies, options.bodies?.now);
    this.route = {
      prefix: WEBHOOK_PATH,
      handler: createWebhookReceiver({
        bodies: this.bodies,
        secret: config.webhookSecret,
        inbox: governance.store.inbox,
        logger,
        pressure,
        onAccepted: () => (this.worker.running ? this.worker.notify() : this.inboxPump.kick()),
      }),
    };
  }

  readonly gate: PullRequestGate;

  /**
   * The policy files (and CODEOWNERS) as GitHub last gave them, kept per replica. Whichever replica
   * stores a push (only those that change a governance file or revert something on the default
   * branch are stored: `ignoredDelivery`), its `delivery.received` entry marks that repository's
   * files stale on every replica, and each catches up with the ledger before reading them: a PR
   * acknowledged after the push is judged by the file GitHub has now, on any replica.
   */
  private policies(governance: Governance): PolicyCache {
    const policies = new PolicyCache({ catchUp: () => governance.syncState() });
    governance.onEntry((entry) => {
      if (entry.type === 'delivery.received' && entry.payload.event === 'push' && entry.payload.repository)
        policies.invalidate(entry.payload.repository);
    });
    return policies;
  }

  /** The outbox deliverer for calls to GitHub, behind the shared breaker, on the runtime's clock. */
  private deliveryLoop(): DeliveryLoop {
    const { governance, logger } = this;
    return new DeliveryLoop(
      governance.store,
      githubDeliverer({
        probot: this.probot,
        reader: governance.store.reader,
        breaker: this.breaker,
        retry: this.retry,
        publicUrl: this.publicUrl,
        rateLimitLowUntil: () => this.rateLimits.lowUntil(),
      }),
      logger,
      { now: () => governance.clock.ms(), claimer: `${governance.claimer}:github` },
    );
  }

  start(): this {
    this.inboxPump.start();
    this.delivery.pump.start();
    this.reconcilePump.start();
    return this;
  }

  async stop(): Promise<void> {
    await Promise.all([this.inboxPump.stop(), this.delivery.pump.stop(), this.reconcilePump.stop()]);
  }

  /**
   * Resolves once no stored delivery and no outbox call is due any more: everything was done or
   * waits for a later retry. For tests and for a graceful shutdown.
   */
  async settle(): Promise<void> {
    for (let i = 0; i < 100; i++) {
      await this.inboxPump.runNow();
      await this.delivery.pump.runNow();
      if (!(await this.inbox.anyDue('github')) && !(await this.anyCallDue())) return;
    }
  }

  /** Like `settle`, but also waits out retries until nothing at all is pending. */
  async drain(timeoutMs = 10_000): Promise<void> {
    // Real time, not governance.clock: this waits for real retries, and a test's ManualClock would
    // never reach the deadline.
    const deadline = systemClock.ms() + timeoutMs;
    while (systemClock.ms() < deadline) {
      await this.settle();
      const { outbox } = this.governance.store;
      if ((await this.inbox.pendingCount('github')) === 0 && (await outbox.pendingCount('github')) === 0)
        return;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error('GitHub work still pending after the timeout');
  }

  /** Evaluates one PR again now (an approval came in through Slack). */
  async reevaluate(
    installationId: number,
    repository: string,
    number: number,
    trigger: string,
    now?: Date,
  ): Promise<void> {
    const [owner, repo] = repository.split('/') as [string, string];
    await this.breaker.execute(async () => {
      const octokit = await this.probot.auth(installationId);
      const { data: pull } = await octokit.rest.pulls.get({ owner, repo, pull_number: number });
      const { data: repoData } = await octokit.rest.repos.get({ owner, repo });
      await this.gate.evaluate(
        octokit,
        targetOf(installationId, repoData, pullRequestSchema.parse(pull)),
        trigger,
        null,
        now,
      );
    });
  }

  /**
   * Decides again every PR whose approval request ran past its deadline: the core rejects or
   * escalates it (expiry never approves), whatever else is configured. Returns how many.
   */
  async expireWaiting(now: Date): Promise<number> {
    const due = await this.governance.waitingPastDeadline(now);
    for (const pr of due) await this.reevaluate(pr.installationId, pr.repository, pr.number, 'expiry', now);
    return due.length;
  }

  kickOutbox(): void {
    this.delivery.pump.kick();
  }

  pendingDeliveries(): Promise<number> {
    return this.inbox.pendingCount('github');
  }

  /** Whether a call to GitHub waits in the outbox that could go out now. */
  private async anyCallDue(): Promise<boolean> {
    return this.governance.store.outbox.anyDue('github');
  }

  /** Processes the stored deliveries now (serialised with the pump's runs). */
  async processInbox(): Promise<void> {
    await this.inboxPump.runNow();
  }

  /** Makes the calls to GitHub waiting in the outbox now (tests, the chaos run). */
  async deliverOutbox(): Promise<void> {
    await this.delivery.pump.runNow();
  }

  /** Runs the reconciliation sweep now (serialised with the periodic one). */
  async reconcileNow(): Promise<void> {
    await this.reconcilePump.runNow();
  }

  async reconcile(): Promise<number> {
    const { probot, governance, gate, breaker, rateLimits, logger } = this;
    return reconcileOpenPullRequests({ probot, governance, gate, breaker, rateLimits, logger });
  }
}
