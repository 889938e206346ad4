import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Governance } from '../governance/governance.js';
import type { Route } from '../platform/http-server.js';
import type { Logger } from '../platform/logger.js';
import { handleAuth } from './auth-routes.js';
import type { LastVerify } from './fleet-view.js';
import { redirect, SECURITY_HEADERS, sendNotFound } from './layout.js';
import { PAGE_ROUTES } from './page-routes.js';
import type { WebConfig } from './web-config.js';
import { createWebContext, type WebContext } from './web-context.js';

export interface WebRoutesOptions {
  /** The last full verification of the ledger the service ran, for the fleet page. */
  lastVerify?: () => LastVerify | null;
}

/**
 * The web pages: sign-in with GitHub, the decision page behind each check run, the fleet. Read-only;
 * every page needs a session, and a page about a repository needs the person to see it on GitHub
 * (else the same 404 as for a page that does not exist). "Now" is the governance clock's.
 */
export function createWebRoutes(
  governance: Governance,
  config: WebConfig,
  logger: Logger,
  options: WebRoutesOptions = {},
): Route[] {
  const ctx = createWebContext(governance, config, logger, options.lastVerify);
  const handler = (req: IncomingMessage, res: ServerResponse) => handle(ctx, req, res);
  return ['/auth', '/decisions', '/fleet', '/assets', '/'].map((prefix) => ({ prefix, handler }));
}

async function handle(ctx: WebContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://web.invalid');
  if (url.pathname.startsWith('/auth/')) return handleAuth(ctx, req, res, url);
  const session = await ctx.sessions.read(req);
  if (!session) {
    if (url.pathname.startsWith('/assets/') || (req.method !== 'GET' && req.method !== 'HEAD'))
      return sendNotFound(res, null);
    return redirect(res, `/auth/signin?return_to=${encodeURIComponent(url.pathname + url.search)}`);
  }
  const viewer = ctx.viewerOf(session);
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { ...SECURITY_HEADERS, allow: 'GET, HEAD', 'content-length': 0 });
    res.end();
    return;
  }
  for (const route of PAGE_ROUTES) {
    const match = route.path.exec(url.pathname);
    if (!match) continue;
    if (route.adminOnly && !viewer.admin) return sendNotFound(res, viewer);
    return route.handle({ ctx, res, url, session, viewer, match });
  }
  return sendNotFound(res, viewer);
}
