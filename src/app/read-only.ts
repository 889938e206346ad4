import { randomBytes } from 'node:crypto';
/**
 * `agov serve --read-only`: the service over the ledger as it is (a private in-memory copy of a
 * SQLite file; read-only connections to a PostgreSQL database, which refuses any write), for
 * looking into a ledger that does not verify (or anything else) without changing a thing. The web
 * pages and `/healthz` answer; `/readyz` says not ready, so no load balancer sends work; the agent
 * API, GitHub webhooks and Slack are refused with 503 `read_only`; nothing is sent to GitHub,
 * Slack or Vault, and neither the ledger, the safety journal nor Redis is written.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Env } from '../config/read-env.js';
import { createHttpServer, type Route, sendJson } from '../platform/http-server.js';
import type { Logger } from '../platform/logger.js';
import { readWebConfig } from '../web/web-config.js';
import { createWebRoutes } from '../web/web-routes.js';
import { HealthManager } from './health/health-manager.js';
import { openRuntime, type Runtime } from './open-runtime.js';

export interface ReadOnlyService {
  server: Server;
  port: number;
  /** Why the ledger does not verify, or null when it does. */
  problem: string | null;
  /** What it reads (its ledger cannot be written: a private copy, or read-only connections). */
  runtime: Runtime;
  stop(): Promise<void>;
}

/** Paths that would change something: the agent API, GitHub's webhooks, Slack's events and actions. */
const WRITE_PREFIXES = ['/api', '/slack'];

/**
 * The web pages, if configured. Sessions are signed with a key made for this run when none is set:
 * a read-only service writes no key file beside the ledger.
 */
function webRoutes(
  runtime: Runtime,
  env: Env,
  logger: Logger,
  result: { ok: boolean; checked: number },
): Route[] {
  const secret = env.WEB_SESSION_SECRET ?? randomBytes(32).toString('hex');
  const webConfig = readWebConfig({ ...env, WEB_SESSION_SECRET: secret });
  if (!webConfig) return [];
  const lastVerify = () => ({
    at: runtime.governance.clock.now().toISOString(),
    when: 'start-up' as const,
    ok: result.ok,
    entries: result.checked,
    ms: 0,
  });
  return createWebRoutes(runtime.governance, webConfig, logger, { lastVerify });
}

export async function startReadOnly(env: Env, logger: Logger): Promise<ReadOnlyService> {
  const runtime = await openRuntime(env, { snapshot: true });
  try {
    const result = await runtime.verify();
    const problem = result.ok ? null : result.reason;
    const why = problem ? `the ledger does not verify: ${problem}` : 'started with --read-only';
    logger.warn({ ledger: runtime.where }, `read-only for investigation: ${why}; nothing is written or sent`);
    await runtime.governance.restoreState();
    const health = new HealthManager();
    health.register({
      name: 'ledger',
      required: true,
      configured: true,
      probe: async () => {
        throw new Error(`read-only for investigation: ${why}`);
      },
    });
    const refuse: Route['handler'] = (_req, res) =>
      sendJson(res, 503, {
        error: 'read_only',
        message: `this service runs read-only for investigation (${why}); nothing is accepted`,
      });
    const routes: Route[] = WRITE_PREFIXES.map((prefix) => ({ prefix, handler: refuse }));
    routes.unshift(...webRoutes(runtime, env, logger, result));
    const server = createHttpServer({ logger, health, routes });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(env.PORT, env.HOST, () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    logger.info({ port }, `listening read-only on http://${env.HOST}:${port}`);
    return {
      server,
      port,
      problem,
      runtime,
      async stop() {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await runtime.close();
      },
    };
  } catch (error) {
    await runtime.close();
    throw error;
  }
}
