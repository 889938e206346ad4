import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CircuitBreakerPolicy } from 'cockatiel';
import { type AgentApi, createAgentApi } from '../agents-api/agent-api.js';
import { AgentRuntime } from '../agents-api/agent-runtime.js';
import { RequestLimits } from '../agents-api/request-limits.js';
import type { Env } from '../config/read-env.js';
import { GithubIntegration, type GithubIntegrationOptions } from '../github/github-integration.js';
import { readGithubConfig } from '../github/read-github-config.js';
import { Consequences } from '../governance/consequences.js';
import { Promotions } from '../governance/promotions.js';
import { Revocations } from '../governance/revocations.js';
import { replaySafetyJournal } from '../governance/safety-actions.js';
import { IntegrationManager } from '../integrations/integration-manager.js';
import { LedgerHeartbeat } from '../ledger/ledger-heartbeat.js';
import { verifyOnStart } from '../ledger/verify-on-start.js';
import { createHttpServer, type Route } from '../platform/http-server.js';
import type { Logger } from '../platform/logger.js';
import { Pump } from '../platform/pump.js';
import { readVaultConfig } from '../secrets/vault-config.js';
import { VaultDeliverer, vaultSetTierMessage } from '../secrets/vault-deliverer.js';
import { VaultSecrets } from '../secrets/vault-secrets.js';
import { readSlackConfig } from '../slack/read-slack-config.js';
import { SlackIntegration } from '../slack/slack-integration.js';
import { Watcher } from '../watchers/watcher.js';
import { readWebConfig } from '../web/web-config.js';
import { createWebRoutes } from '../web/web-routes.js';
import { describeConfiguration } from './describe-configuration.js';
import { HealthManager } from './health/health-manager.js';
import { githubProbe, INTEGRATION_PROBE_EVERY_MS, slackProbe } from './health/integration-probes.js';
import { Metrics } from './health/metrics.js';
import { openRuntime, type Runtime } from './open-runtime.js';
import { createSetupRoutes, type SetupPageOptions } from './setup-page.js';

export interface RunningService {
  runtime: Runtime;
  /** Runs the periodic upkeep now (as of `now`): for tests, the demo and the chaos run. */
  maintenance(now?: Date): Promise<void>;
  /** Queues now what the ledger's new entries call for (the consequences follower), and confirms revocations. */
  followLedger(): Promise<void>;
  revocations: Revocations;
  promotions: Promotions;
  vault: { secrets: VaultSecrets; deliverer: VaultDeliverer } | null;
  slack: SlackIntegration | null;
  agentRuntime: AgentRuntime;
  agentApi: AgentApi;
  health: HealthManager;
  github: GithubIntegration | null;
  server: Server;
  port: number;
  stop(): Promise<void>;
}

/**
 * Starts the whole service in this process: ledger, state store (rebuilt from the ledger), the
 * HTTP server, the ledger follower and periodic checkpoints.
 */
export interface ServiceOptions {
  github?: GithubIntegrationOptions;
  vaultRetry?: { initialMs: number; maxMs: number };
  vaultBreaker?: CircuitBreakerPolicy;
  slackRetry?: { initialMs: number; maxMs: number };
  slackBreaker?: CircuitBreakerPolicy;
  /** The GitHub App setup page, served while no App is configured. */
  setup?: SetupPageOptions;
}

export async function startService(
  env: Env,
  logger: Logger,
  options: ServiceOptions = {},
): Promise<RunningService> {
  const githubConfig = readGithubConfig(env);
  readVaultConfig(env);
  readSlackConfig(env);
  const runtime = await openRuntime(env, { stateStore: 'env' });
  const timers: NodeJS.Timeout[] = [];
  let github: GithubIntegration | null = null;
  let slack: SlackIntegration | null = null;
  try {
    // Nothing is served from a ledger whose state was rewritten: agents authenticate from its
    // projections and the state store is rebuilt from its checkpoints.
    const verified = verifyOnStart(
      runtime.ledger.db,
      runtime.checkpoints,
      runtime.signingKey,
      env.LEDGER_PATH,
    );
    const verifiedAt = new Date().toISOString();
    logger.info(verified, `ledger verified: ${verified.checked} entries, checkpoints and projections`);
    const restored = await runtime.governance.restoreState();
    logger.info(
      { checkpoint: restored.checkpointId, headSeq: restored.headSeq, store: runtime.state.kind },
      `state store rebuilt from ${restored.checkpointId ?? 'the start of the ledger'} up to entry ${restored.headSeq}`,
    );
    const added = await runtime.governance.registerConfiguredAgents();
    if (added.length)
      logger.info({ agents: added }, `registered ${added.length} agent(s) from the organisation config`);

    const governance = runtime.governance;
    const routes: Route[] = [];
    const integrations = new IntegrationManager(governance.ledger);
    const vaultConfig = readVaultConfig(env);
    const secrets = vaultConfig
      ? new VaultSecrets(vaultConfig, governance.config, options.vaultBreaker)
      : null;
    let vaultDeliverer: VaultDeliverer | null = null;
    const kickOutboxes = () => {
      vaultDeliverer?.pump.kick();
      github?.kickOutbox();
      slack?.kick();
    };
    const revocations = new Revocations(governance, { vault: Boolean(secrets) }, kickOutboxes);
    const promotions = new Promotions(governance, secrets ? vaultSetTierMessage : null, kickOutboxes);
    if (githubConfig) {
      github = new GithubIntegration(governance, githubConfig, logger, {
        ...options.github,
        recordEffect: (r, ok, detail) =>
          revocations.recordEffect(r.revocationId, r.agentId, r.effect, ok, detail),
      });
      routes.push(github.route);
    }
    if (secrets)
      vaultDeliverer = new VaultDeliverer(governance, secrets, revocations, logger, options.vaultRetry);
    // Revocations and pauses taken while the ledger could not be written, recorded now.
    await replaySafetyJournal(governance, revocations, logger);
    const agentRuntime = new AgentRuntime(governance, logger, secrets);
    const watcher = new Watcher(governance);
    const slackConfig = readSlackConfig(env);
    slack = slackConfig
      ? new SlackIntegration(
          governance,
          slackConfig,
          {
            promotions,
            revocations,
            reevaluate: async (installationId, repository, number) => {
              if (!github) throw new Error('the GitHub App is not configured');
              await github.reevaluate(installationId, repository, number, 'slack.approval');
            },
          },
          logger,
          options.slackRetry,
          options.slackBreaker,
        )
      : null;
    if (slack) {
      integrations.subscribe(slack);
      routes.push(slack.route);
    }
    // What entries call for (the rest of a kill switch, alerts, cards), queued by one ledger
    // follower from its stored position: entries recorded by the CLI, another process or before a
    // crash get their consequences too, once.
    const consequences = new Consequences(governance.ledger, revocations, integrations);
    const consequencesPump = new Pump(
      async () => {
        if ((await consequences.run()) > 0) kickOutboxes();
      },
      1000,
      (error) => logger.error({ err: error }, 'following the ledger for consequences failed; will retry'),
    );
    governance.onEntry(() => consequencesPump.kick());
    const health = new HealthManager();
    const heartbeat = new LedgerHeartbeat(runtime.ledger.db);
    health.register({
      name: 'ledger',
      required: true,
      configured: true,
      // A real commit: a full disk or a file that cannot grow fails at commit, not at BEGIN.
      probe: async () => heartbeat.beat(new Date()),
    });
    health.register({
      name: 'state_store',
      required: false,
      configured: true,
      probe: () => runtime.state.ping(),
      breaker: agentRuntime.stateBreaker,
    });
    // GitHub and Slack are asked too (at most once a minute), so an unreachable one shows before a
    // delivery trips its breaker.
    health.register({
      name: 'github',
      required: false,
      configured: Boolean(github),
      ...(github
        ? {
            breaker: github.breaker,
            rateLimit: () => github?.rateLimits.tightest() ?? null,
            probe: githubProbe(github.probot, logger),
            probeEveryMs: INTEGRATION_PROBE_EVERY_MS,
          }
        : {}),
    });
    health.register({
      name: 'slack',
      required: false,
      configured: Boolean(slack),
      ...(slack && slackConfig
        ? {
            breaker: slack.breaker,
            probe: slackProbe(slack.app.client, slackConfig.botToken, logger),
            probeEveryMs: INTEGRATION_PROBE_EVERY_MS,
          }
        : {}),
    });
    health.register({
      name: 'vault',
      required: false,
      configured: Boolean(secrets),
      ...(secrets
        ? {
            breaker: secrets.breaker,
            probe: async () => {
              const h = await secrets.health();
              if (h.state === 'down') throw new Error(`Vault is ${h.detail}`);
            },
          }
        : {}),
    });
    // A state store that comes back may have come back empty (a restarted Redis): rebuild it.
    health.onRecovery('state_store', async () => {
      const restored = await governance.restoreState();
      logger.info(
        { headSeq: restored.headSeq },
        'state store is back; derived state rebuilt from the ledger',
      );
    });
    const metrics = new Metrics(
      () => ({
        inbox: github?.pendingDeliveries() ?? 0,
        'outbox.github': governance.ledger.outbox.pendingCount('github'),
        'outbox.slack': governance.ledger.outbox.pendingCount('slack'),
        'outbox.vault': governance.ledger.outbox.pendingCount('vault'),
      }),
      health,
    );
    governance.onEntry((entry) => metrics.observe(entry));
    const agentApi = createAgentApi(agentRuntime, governance.ledger, logger, {
      limits: new RequestLimits(governance.state, governance.config.agent_api, logger),
      registry: metrics.registry,
    });
    routes.push(agentApi);
    const webConfig = readWebConfig(env);
    const lastVerify = {
      at: verifiedAt,
      when: 'start-up' as const,
      ok: true,
      entries: verified.checked,
      ms: verified.ms,
    };
    if (webConfig)
      routes.push(...createWebRoutes(governance, webConfig, logger, { lastVerify: () => lastVerify }));
    // No App yet: `/` registers one. Sign-in configured means one was (its client id is the App's),
    // and `/` is the web pages' home.
    const setupPage = !github && !webConfig;
    if (setupPage) routes.push(...createSetupRoutes(env, logger, options.setup));
    const server = createHttpServer({ logger, health, metrics, routes });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(env.PORT, env.HOST, () => resolve());
    });
    const port = (server.address() as AddressInfo).port;

    // Follow entries appended by other processes (the CLI, other replicas).
    timers.push(
      setInterval(() => {
        runtime.governance
          .syncState()
          .catch((error: unknown) => logger.warn({ err: error }, 'state sync failed; will retry'));
      }, 1000),
    );
    /** Periodic upkeep: probes, missed heartbeats, budget recovery, approval expiry. */
    const maintenance = async (now = new Date()) => {
      await consequencesPump.runNow();
      await health.probeAll().catch((error: unknown) => logger.warn({ err: error }, 'health probe failed'));
      await replaySafetyJournal(governance, revocations, logger).catch((error: unknown) =>
        logger.warn({ err: error }, 'safety journal replay failed; will retry'),
      );
      // A Redis that restarted between two probes came back empty without ever looking down.
      try {
        if (!(await governance.state.isRestored())) {
          const restored = await governance.restoreState();
          logger.warn({ headSeq: restored.headSeq }, 'state store was empty; rebuilt from the ledger');
        }
      } catch (error) {
        logger.warn({ err: error }, 'state store rebuild failed; will retry');
      }
      await agentRuntime
        .sweepHeartbeats()
        .catch((error: unknown) =>
          logger.warn({ err: (error as Error).message }, 'heartbeat sweep failed; will retry'),
        );
      await governance
        .recoverBudgets(now)
        .catch((error: unknown) => logger.warn({ err: error }, 'budget recovery failed; will retry'));
      try {
        const raised = watcher.run(now);
        if (raised.length) {
          logger.warn(
            { findings: raised.map((f) => f.key) },
            `bug watcher: ${raised.map((f) => f.summary).join('; ')}`,
          );
          slack?.pump.kick();
        }
      } catch (error) {
        logger.warn({ err: error }, 'bug watcher failed; will retry');
      }
      await slack
        ?.syncCouncil(now.getTime())
        .catch((error: unknown) => logger.warn({ err: error }, 'council user group not read; will retry'));
      // Expiry is the core's: a PR past its deadline is decided again at `now` and the decision
      // recorded, with or without Slack. Slack first marks its card expired and, for `escalate`,
      // tells the admins.
      try {
        slack?.expireApprovals(now);
        slack?.pump.kick();
      } catch (error) {
        logger.warn({ err: error }, 'approval expiry failed; will retry');
      }
      await github
        ?.expireWaiting(now)
        .catch((error: unknown) => logger.warn({ err: error }, 'approval expiry failed; will retry'));
    };
    timers.push(setInterval(() => void maintenance(), env.HEALTH_PROBE_INTERVAL_MS));
    if (env.CHECKPOINT_INTERVAL_MINUTES > 0) {
      timers.push(
        setInterval(() => {
          const latest = runtime.checkpoints.latest();
          if (latest && latest.headSeq === runtime.ledger.head().seq) return;
          const c = runtime.checkpoints.create();
          logger.info({ checkpoint: c.checkpointId, headSeq: c.headSeq }, 'checkpoint created');
        }, env.CHECKPOINT_INTERVAL_MINUTES * 60_000),
      );
    }
    for (const t of timers) t.unref();
    github?.start();
    vaultDeliverer?.pump.start();
    consequencesPump.start().kick();
    await slack?.start();

    for (const warning of runtime.configWarnings) logger.warn({ part: 'organisation config' }, warning);
    for (const line of describeConfiguration(env, runtime.configPath)) {
      logger.info({ part: line.part, configured: line.configured }, `${line.part}: ${line.detail}`);
    }
    if (setupPage)
      logger.info(
        `GitHub App: open ${env.PUBLIC_URL?.replace(/\/+$/, '') ?? `http://localhost:${port}`}/ to register one from app.yml`,
      );
    logger.info(
      { port },
      `listening on http://${env.HOST}:${port} (GET /healthz, /readyz, /metrics; agent API under /api/v1)`,
    );

    return {
      runtime,
      maintenance,
      followLedger: () => consequencesPump.runNow(),
      revocations,
      promotions,
      vault: secrets && vaultDeliverer ? { secrets, deliverer: vaultDeliverer } : null,
      slack,
      agentRuntime,
      agentApi,
      health,
      github,
      server,
      port,
      async stop() {
        for (const t of timers) clearInterval(t);
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await slack?.receiver.idle();
        await github?.settle().catch(() => undefined);
        server.closeAllConnections();
        await closed;
        await consequencesPump.stop();
        await github?.stop();
        await vaultDeliverer?.pump.stop();
        await slack?.stop();
        await agentApi.close();
        await runtime.close();
      },
    };
  } catch (error) {
    for (const t of timers) clearInterval(t);
    await github?.stop();
    await runtime.close();
    throw error;
  }
}
