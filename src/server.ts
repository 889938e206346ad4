import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from './logger.js';
import type { Runtime } from './open-runtime.js';

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

type DependencyState = { state: 'up' | 'down' | 'unconfigured'; detail?: string };

/** Readiness: the ledger must be writable; the state store must answer. */
export async function readiness(
  runtime: Runtime,
): Promise<{ ready: boolean; dependencies: Record<string, DependencyState> }> {
  const dependencies: Record<string, DependencyState> = {};
  try {
    runtime.ledger.db.prepare('BEGIN IMMEDIATE').run();
    runtime.ledger.db.prepare('ROLLBACK').run();
    dependencies.ledger = { state: 'up' };
  } catch (error) {
    dependencies.ledger = { state: 'down', detail: (error as Error).message };
  }
  try {
    await runtime.state.ping();
    dependencies.state_store = { state: 'up', detail: runtime.state.kind };
  } catch (error) {
    dependencies.state_store = { state: 'down', detail: (error as Error).message };
  }
  const ready = Object.values(dependencies).every((d) => d.state !== 'down');
  return { ready, dependencies };
}

/** The one HTTP server: health endpoints plus whatever routes the adapters mount. */
export function createHttpServer(runtime: Runtime, logger: Logger, routes: Route[] = []): Server {
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const handle = async () => {
      if (path === '/healthz') return sendJson(res, 200, { status: 'ok' });
      if (path === '/readyz') {
        const report = await readiness(runtime);
        return sendJson(res, report.ready ? 200 : 503, {
          status: report.ready ? 'ready' : 'not_ready',
          ...report,
        });
      }
      const route = routes.find((r) => path === r.prefix || path.startsWith(`${r.prefix}/`));
      if (route) return route.handler(req, res);
      sendJson(res, 404, { error: 'not_found', message: `no route for ${req.method} ${path}` });
    };
    handle().catch((error: unknown) => {
      logger.error({ err: error, path }, 'request failed');
      if (!res.headersSent)
        sendJson(res, 500, { error: 'internal', message: 'internal error; see the service log' });
      else res.end();
    });
  });
}
