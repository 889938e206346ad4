import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Governance } from '../governance/governance.js';
import { seenRequestsIn } from '../ledger/seen-requests.js';
import { isUserError } from '../platform/errors.js';
import type { Route } from '../platform/http-server.js';
import type { Logger } from '../platform/logger.js';
import { STYLESHEET } from './assets.js';
import { decisionPage } from './decision-page.js';
import { DecisionViews } from './decision-view.js';
import { agentPage, fleetPage } from './fleet-page.js';
import { FleetViews, type LastVerify } from './fleet-view.js';
import { authorizeUrl, exchangeCode, readPerson } from './github-oauth.js';
import { homePage } from './home-page.js';
import { html } from './html.js';
import { page, redirect, SECURITY_HEADERS, sendNotFound, sendPage, type Viewer } from './layout.js';
import { mergeGroupAt, mergeGroupPage, undecidedPage } from './merge-group-page.js';
import { localPath, type Session, Sessions } from './sessions.js';
import type { WebConfig } from './web-config.js';

export interface WebRoutesOptions {
  now?: () => Date;
  /** The last full verification of the ledger the service ran, for the fleet page. */
  lastVerify?: () => LastVerify | null;
}

/**
 * The web pages: sign-in with GitHub, the decision page behind each check run, the fleet. Read-only;
 * every page needs a session, and a page about a repository needs the person to see it on GitHub
 * (else the same 404 as for a page that does not exist).
 */
export function createWebRoutes(
  governance: Governance,
  config: WebConfig,
  logger: Logger,
  options: WebRoutesOptions = {},
): Route[] {
  const now = options.now ?? (() => new Date());
  const sessions = new Sessions(config, () => now().getTime(), seenRequestsIn(governance.ledger));
  const decisions = new DecisionViews(governance);
  const fleet = new FleetViews(governance, decisions, options.lastVerify);
  const named = new Set(
    [
      ...config.admins,
      ...governance.config.approvers.map((p) => p.github),
      ...governance.config.people.map((p) => p.github),
    ]
      .filter((l): l is string => Boolean(l))
      .map((l) => l.toLowerCase()),
  );
  const viewerOf = (s: Session): Viewer => ({ login: s.login, admin: named.has(s.login.toLowerCase()) });
  const canSee = (s: Session, repository: string) => s.repos.includes(repository.toLowerCase());

  /** The callback URL GitHub sends people back to: set it on the App as `{PUBLIC_URL}/auth/callback`. */
  const callbackUrl = (req: IncomingMessage): string => {
    if (config.publicUrl) return `${config.publicUrl}/auth/callback`;
    const host = /^[A-Za-z0-9.:[\]-]+$/.test(req.headers.host ?? '') ? req.headers.host : 'localhost';
    return `http://${host}/auth/callback`;
  };

  const auth = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    if (url.pathname === '/auth/signin' && req.method === 'GET') {
      const begun = sessions.beginSignIn(req, localPath(url.searchParams.get('return_to')));
      return redirect(res, authorizeUrl(config, callbackUrl(req), begun.state), {
        'set-cookie': begun.cookie,
      });
    }
    if (url.pathname === '/auth/callback' && req.method === 'GET') {
      const signIn = sessions.finishSignIn(req, url.searchParams.get('state'));
      const code = url.searchParams.get('code');
      if (!signIn || !code) {
        const why = url.searchParams.get('error')
          ? 'GitHub did not sign you in.'
          : 'This sign-in was not started from this browser, or it took longer than ten minutes.';
        return sendPage(
          res,
          400,
          page(
            'Sign-in failed',
            null,
            html`<h1>Sign-in failed</h1><p>${why}</p><p><a href="/auth/signin">Sign in again</a></p>`,
          ),
          { 'set-cookie': sessions.clear(req) },
        );
      }
      try {
        const token = await exchangeCode(config, code, callbackUrl(req));
        const person = await readPerson(config, token);
        logger.info({ login: person.login, repositories: person.repositories.length }, 'web sign-in');
        const cookie = sessions.issue(req, person.login, person.repositories);
        if (!cookie)
          return sendPage(
            res,
            403,
            page(
              'Sign-in failed',
              null,
              html`<h1>Too many repositories for one session</h1><p>${person.login} can see ${person.repositories.length} repositories through this App; a session holds about 300. This is a known limit of the web pages.</p>`,
            ),
            { 'set-cookie': sessions.clear(req) },
          );
        return redirect(res, signIn.returnTo, { 'set-cookie': [cookie, sessions.clear(req)[1]!] });
      } catch (error) {
        // GitHub refusing the code is the person's to retry; GitHub unreachable is too, and says so
        // on the page (with the security headers), never as a bare 500.
        logger.warn({ err: error }, 'web sign-in failed');
        const reason = isUserError(error)
          ? error.message
          : 'GitHub could not be reached to finish signing in';
        return sendPage(
          res,
          502,
          page(
            'Sign-in failed',
            null,
            html`<h1>Sign-in failed</h1><p>${reason}</p><p><a href="/auth/signin">Try again</a></p>`,
          ),
          { 'set-cookie': sessions.clear(req) },
        );
      }
    }
    if (url.pathname === '/auth/signout' && req.method === 'POST') {
      // Another site may not sign a person out: a browser names the page's origin on a POST.
      const origin = req.headers.origin;
      if (origin && origin !== new URL(callbackUrl(req)).origin) return sendNotFound(res, null);
      sessions.end(req);
      return redirect(res, '/auth/signedout', { 'set-cookie': sessions.clear(req) });
    }
    if (url.pathname === '/auth/signedout' && req.method === 'GET') {
      return sendPage(
        res,
        200,
        page('Signed out', null, html`<h1>Signed out</h1><p><a href="/auth/signin">Sign in</a></p>`),
      );
    }
    return sendNotFound(res, null);
  };

  const handler = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://web.invalid');
    if (url.pathname.startsWith('/auth/')) return auth(req, res, url);
    const session = sessions.read(req);
    if (!session) {
      if (url.pathname.startsWith('/assets/') || (req.method !== 'GET' && req.method !== 'HEAD'))
        return sendNotFound(res, null);
      return redirect(res, `/auth/signin?return_to=${encodeURIComponent(url.pathname + url.search)}`);
    }
    const viewer = viewerOf(session);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { ...SECURITY_HEADERS, allow: 'GET, HEAD', 'content-length': 0 });
      res.end();
      return;
    }
    if (url.pathname === '/assets/web.css') {
      res.writeHead(200, {
        ...SECURITY_HEADERS,
        'content-type': 'text/css; charset=utf-8',
        'content-length': Buffer.byteLength(STYLESHEET),
      });
      res.end(STYLESHEET);
      return;
    }
    if (url.pathname === '/')
      return sendPage(
        res,
        200,
        homePage(governance, viewer, (r) => canSee(session, r)),
      );
    const d = /^\/decisions\/([^/]+)\/([^/]+)\/(\d{1,9})$/.exec(url.pathname);
    if (d) {
      const repository = repositoryOf(d[1]!, d[2]!);
      if (!repository || !canSee(session, repository)) return sendNotFound(res, viewer);
      const view = decisions.read(repository, Number(d[3]), now());
      // A repository the person can see: a PR with no decision yet says so (a queued check links here).
      if (!view) return sendPage(res, 200, undecidedPage(repository, Number(d[3]), viewer));
      return sendPage(res, 200, decisionPage(view, viewer));
    }
    if (url.pathname === '/fleet' || url.pathname.startsWith('/fleet/')) {
      // The fleet is for the people the configuration names; to anyone else it does not exist.
      if (!viewer.admin) return sendNotFound(res, viewer);
      if (url.pathname === '/fleet') {
        const filter = {
          status: url.searchParams.get('status'),
          tier: url.searchParams.get('tier'),
          q: url.searchParams.get('q'),
        };
        return sendPage(res, 200, fleetPage(fleet.read(now(), filter), filter, viewer));
      }
      const a = /^\/fleet\/agents\/([a-z0-9][a-z0-9-]{0,62})$/.exec(url.pathname);
      const agent = a ? fleet.agents(now()).find((r) => r.id === a[1]) : undefined;
      if (!agent) return sendNotFound(res, viewer);
      const history = fleet.history(agent.id);
      const chart = {
        ...history,
        budgetLimit: governance.config.budgets.limit,
        windowHours: governance.config.budgets.window_hours,
        now: now(),
      };
      return sendPage(
        res,
        200,
        agentPage(agent, chart, governance.ledger.latestForAgent(agent.id, 100), viewer),
      );
    }
    const c = /^\/decisions\/([^/]+)\/([^/]+)\/commit\/([0-9a-f]{40})$/.exec(url.pathname);
    if (c) {
      const repository = repositoryOf(c[1]!, c[2]!);
      if (!repository || !canSee(session, repository)) return sendNotFound(res, viewer);
      const pr = decisions.pullRequestAt(repository, c[3]!);
      if (pr) return redirect(res, `/decisions/${pr.repository}/${pr.number}`);
      // A merge queue's check names the group's commit, which no PR decision is at.
      const group = mergeGroupAt(governance, repository, c[3]!);
      if (group) return sendPage(res, 200, mergeGroupPage(group, viewer));
      return sendNotFound(res, viewer);
    }
    return sendNotFound(res, viewer);
  };

  return ['/auth', '/decisions', '/fleet', '/assets', '/'].map((prefix) => ({ prefix, handler }));
}

/** `owner/name` from two path segments; null for one that is not valid percent-encoding. */
function repositoryOf(owner: string, name: string): string | null {
  try {
    return `${decodeURIComponent(owner)}/${decodeURIComponent(name)}`;
  } catch {
    return null;
  }
}
