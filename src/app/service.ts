import { randomUUID } from 'node:crypto';
/**
 * The composition root: builds the service from the environment and starts it in this process —
 * ledger and state store (rebuilt from the ledger), integrations, the agent API, web pages, health,
 * the HTTP server, and the periodic work.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type AgentApi, createAgentApi } from '../agents-api/agent-api.js';
import { AgentRuntime } from '../agents-api/agent-runtime.js';
import { RequestLimits } from '../agents-api/request-limits.js';
import type { Env } from '../config/read-env.js';
import type { GithubIntegration } from '../github/github-integration.js';
import { readGithubConfig } from '../github/read-github-config.js';
import type { Promotions } from '../governance/promotions.js';
import type { Revocations } from '../governance/revocations.js';
import { replaySafetyJournal } from '../governance/safety-actions.js';
import { PostgresLedger } from '../ledger/postgres/postgres-ledger.js';
import type { Clock } from '../platform/clock.js';
import { createHttpServer, type Route } from '../platform/http-server.js';
import type { Logger } from '../platform/logger.js';
import { readVaultConfig } from '../secrets/vault-config.js';
import type { VaultDeliverer } from '../secrets/vault-deliverer.js';
import type { VaultSecrets } from '../secrets/vault-secrets.js';
import { readSlackConfig } from '../slack/read-slack-config.js';
import type { SlackIntegration } from '../slack/slack-integration.js';
import { Watcher } from '../watchers/watcher.js';
import { readWebConfig } from '../web/web-config.js';
import { createWebRoutes } from '../web/web-routes.js';
import { describeConfiguration } from './describe-configuration.js';
import type { HealthManager } from './health/health-manager.js';
import { Metrics } from './health/metrics.js';
import { registerHealth } from './health/register-health.js';
import { type IntegrationOptions, type Integrations, wireIntegrations } from './integrations.js';
import { openRuntime, type Runtime } from './open-runtime.js';
import { type PeriodicWorkEvent, type ReplicaLedger, ReplicaPresence, thisReplica } from './replicas.js';
import { ServeMarker } from './serve-marker.js';
import { createSetupRoutes, type SetupPageOptions } from './setup-page.js';
import { prepareLedger, type StartUpCheck, startTimers } from './start-up.js';
import { createUpkeep } from './upkeep.js';

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
  /** This replica among the others on the state store, and whether it runs the periodic work. */
  presence: ReplicaPresence;
  server: Server;
  port: number;
  stop(): Promise<void>;
}

export interface ServiceOptions extends IntegrationOptions {
  /** The clock the service reads "now" from (the system clock by default). */
  clock?: Clock;
  /** The GitHub App setup page, served while no App is configured. */
  setup?: SetupPageOptions;
  /** Told when a piece of the shared periodic work starts and ends on this replica. */
  onPeriodicWork?: (event: PeriodicWorkEvent) => void;
}

export async function startService(
  env: Env,
  logger: Logger,
  options: ServiceOptions = {},
): Promise<RunningService> {
  // A configuration mistake is refused before the ledger is opened.
  readIntegrationConfig(env);
  // PORT 0 (any free port) tells replicas on one host apart by nothing stable: each start is new.
  const placeOnHost = env.PORT !== 0 ? String(env.PORT) : `${process.pid}:${randomUUID()}`;
  const runtime = await openRuntime(env, {
    stateStore: 'env',
    ...(options.clock ? { clock: options.clock } : {}),
    // Claims of shared work under this replica's own name: a restart takes back what it held.
    claimer: (ledgerId) => thisReplica(replicaLedger(env, ledgerId, placeOnHost), new Date()).id,
  });
  let integrations: Integrations | null = null;
  const presence = replicaPresence(runtime, env, logger, placeOnHost);
  presence.onPeriodicWork = options.onPeriodicWork ?? null;
  try {
    // Before the state store is rebuilt from this ledger: a replica on another ledger must not.
    await presence.join();
    const checked = await prepareLedger(runtime, logger);
    const governance = runtime.governance;
    const runsPeriodicWork = () => presence.runsPeriodicWork();
    const { periodic } = presence;
    integrations = wireIntegrations(governance, env, logger, { periodic, ...options });
    // Revocations and pauses taken while the ledger could not be written, recorded now.
    await replaySafetyJournal(governance, integrations.revocations, logger);
    const served = await serve(runtime, integrations, env, logger, checked, options.setup, runsPeriodicWork);
    const upkeep = createUpkeep({
      ...served,
      governance,
      integrations,
      watcher: new Watcher(governance),
      logger,
      periodic,
    });
    const timers = startTimers(runtime, env, logger, upkeep, periodic);
    await startIntegrations(integrations);
    logStarted(runtime, env, logger, served.port);
    const parts = integrations;
    return {
      ...served,
      runtime,
      maintenance: upkeep,
      followLedger: () => parts.consequences.runNow(),
      revocations: parts.revocations,
      promotions: parts.promotions,
      vault: parts.vault,
      slack: parts.slack,
      github: parts.github,
      presence,
      stop: () => stopService({ ...served, runtime, integrations: parts, timers, presence }),
    };
  } catch (error) {
    await integrations?.github?.stop();
    await presence.leave();
    await runtime.close();
    throw error;
  }
}

/** This process among the replicas on its state store, and its marker beside the ledger file. */
function replicaPresence(runtime: Runtime, env: Env, logger: Logger, placeOnHost: string): ReplicaPresence {
  const me = thisReplica(replicaLedger(env, runtime.ledgerId, placeOnHost), runtime.governance.clock.now());
  // One process per SQLite file; replicas on PostgreSQL share it, and announce themselves in it.
  const marker = runtime.engine === 'sqlite' ? new ServeMarker(env.LEDGER_PATH, me) : null;
  const inLedger =
    runtime.store instanceof PostgresLedger
      ? { registry: runtime.store.replicas, sharedState: runtime.state.kind !== 'memory' }
      : null;
  return new ReplicaPresence(runtime.state, me, env.PERIODIC_LEASE_MS, logger, Date.now, marker, inLedger);
}

/**
 * The ledger this replica serves, as replicas compare them: the file, or the PostgreSQL ledger's
 * identity and where on its host this replica is.
 */
function replicaLedger(env: Env, ledgerId: string, placeOnHost: string): ReplicaLedger {
  return env.DATABASE_URL ? { postgres: ledgerId, port: placeOnHost } : env.LEDGER_PATH;
}

function readIntegrationConfig(env: Env): void {
  readGithubConfig(env);
  readVaultConfig(env);
  readSlackConfig(env);
}

/** The agent API, web pages, health and metrics on one HTTP server, listening. */
async function serve(
  runtime: Runtime,
  integrations: Integrations,
  env: Env,
  logger: Logger,
  checked: StartUpCheck,
  setup: SetupPageOptions | undefined,
  runsPeriodicWork: () => boolean,
) {
  const governance = runtime.governance;
  const agentRuntime = new AgentRuntime(governance, logger, integrations.vault?.secrets ?? null);
  const health = registerHealth(
    governance,
    agentRuntime,
    integrations,
    readSlackConfig(env)?.botToken ?? null,
    logger,
  );
  const metrics = new Metrics(() => queueDepths(runtime, integrations), health, runsPeriodicWork);
  governance.onEntry((entry) => metrics.observe(entry));
  const agentApi = createAgentApi(agentRuntime, governance, logger, {
    limits: new RequestLimits(governance.state, governance.config.agent_api, logger),
    registry: metrics.registry,
  });
  const routes: Route[] = [...integrations.routes, agentApi];
  const webConfig = readWebConfig(env);
  if (webConfig)
    routes.push(...createWebRoutes(governance, webConfig, logger, { lastVerify: () => checked }));
  // No App yet: `/` registers one. Sign-in configured means one was (its client id is the App's),
  // and `/` is the web pages' home.
  const setupPage = !integrations.github && !webConfig;
  if (setupPage) routes.push(...createSetupRoutes(env, logger, setup));
  const server = createHttpServer({ logger, health, metrics, routes });
  const port = await listen(server, env);
  if (setupPage)
    logger.info(
      `GitHub App: open ${env.PUBLIC_URL?.replace(/\/+$/, '') ?? `http://localhost:${port}`}/ to register one from app.yml`,
    );
  return { agentRuntime, agentApi, health, server, port };
}

async function queueDepths(runtime: Runtime, integrations: Integrations): Promise<Record<string, number>> {
  const { outbox } = runtime.store;
  const [inbox, github, slack, vault] = await Promise.all([
    integrations.github?.pendingDeliveries() ?? 0,
    outbox.pendingCount('github'),
    outbox.pendingCount('slack'),
    outbox.pendingCount('vault'),
  ]);
  return { inbox, 'outbox.github': github, 'outbox.slack': slack, 'outbox.vault': vault };
}

async function listen(server: Server, env: Env): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(env.PORT, env.HOST, () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

async function startIntegrations(integrations: Integrations): Promise<void> {
  integrations.github?.start();
  integrations.vault?.deliverer.pump.start();
  integrations.consequences.start().kick();
  await integrations.slack?.start();
}

function logStarted(runtime: Runtime, env: Env, logger: Logger, port: number): void {
  for (const warning of runtime.configWarnings) logger.warn({ part: 'organisation config' }, warning);
  for (const line of describeConfiguration(env, runtime.configPath)) {
    logger.info({ part: line.part, configured: line.configured }, `${line.part}: ${line.detail}`);
  }
  logger.info(
    { port },
    `listening on http://${env.HOST}:${port} (GET /healthz, /readyz, /metrics; agent API under /api/v1)`,
  );
}

/** Stops taking requests, lets what was accepted finish, then stops the workers and closes the ledger. */
async function stopService(s: {
  runtime: Runtime;
  integrations: Integrations;
  server: Server;
  agentApi: AgentApi;
  timers: NodeJS.Timeout[];
  presence: ReplicaPresence;
}): Promise<void> {
  const { github, slack, vault, consequences } = s.integrations;
  for (const t of s.timers) clearInterval(t);
  const closed = new Promise<void>((resolve) => s.server.close(() => resolve()));
  s.server.closeIdleConnections();
  await slack?.receiver.idle();
  await github?.settle().catch(() => undefined);
  s.server.closeAllConnections();
  await closed;
  await consequences.stop();
  await github?.stop();
  await vault?.deliverer.pump.stop();
  await slack?.stop();
  await s.agentApi.close();
  await s.presence.leave();
  await s.runtime.close();
}
