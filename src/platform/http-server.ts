import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { HealthManager } from '../app/health/health-manager.js';
import type { Metrics } from '../app/health/metrics.js';
import type { Logger } from './logger.js';
import { RequestAbortedError } from './read-body.js';

export type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/** A route claims a path prefix; the first that matches handles the request. */
export interface Route {
  prefix: string;
  handler: Handler;
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

export interface HttpServerOptions {
  logger: Logger;
  health: HealthManager;
  metrics?: Metrics;
  routes?: Route[];
}

const OWN_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * The metrics label of a request: the route's pattern, never the path a caller chose, so random
 * paths cannot grow `/metrics` (one series per path made it 61 MB after 50,000 of them).
 */
function routeLabel(path: string, route: Route | undefined): string {
  if (route) return route.prefix;
  return OWN_PATHS.has(path) ? path : 'other';
}

/** The one HTTP server: health and metrics, plus the routes the adapters mount. */
export function createHttpServer(options: HttpServerOptions): Server {
  const { logger, health, metrics, routes = [] } = options;
  // A request has a minute to arrive whole, not Node's default 5 min. Unsigned webhook and Slack
  // bodies are held to far less (10 s, a minimum rate, eviction when full): see `BodyBudget`.
  return createServer({ requestTimeout: 60_000 }, (req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const route = routes.find((r) => path === r.prefix || path.startsWith(`${r.prefix}/`));
    const timer = metrics?.httpDuration.startTimer({ route: routeLabel(path, route) });
    // Closed before an answer went out (the client went away, or a slow body was cut off): `aborted`.
    res.once('close', () => timer?.({ status: res.writableFinished ? String(res.statusCode) : 'aborted' }));
    const handle = async () => {
      if (path === '/healthz') return sendJson(res, 200, { status: 'ok' });
      if (path === '/readyz') {
        await health.probeAll();
        const report = health.report();
        return sendJson(res, report.status === 'not_ready' ? 503 : 200, report);
      }
      if (path === '/metrics' && metrics) {
        const text = await metrics.registry.metrics();
        res.writeHead(200, { 'content-type': metrics.registry.contentType });
        return res.end(text);
      }
      if (route) return route.handler(req, res);
      sendJson(res, 404, { error: 'not_found', message: `no route for ${req.method} ${path}` });
    };
    handle().catch((error: unknown) => {
      if (error instanceof RequestAbortedError)
        return logger.debug({ path }, `request not answered: ${error.message}`);
      logger.error({ err: error, path }, 'request failed');
      if (!res.headersSent)
        sendJson(res, 500, { error: 'internal', message: 'internal error; see the service log' });
      else res.end();
    });
  });
}
