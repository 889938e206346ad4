import type { ServerResponse } from 'node:http';
import { fleetViewsAsync } from '../ledger/queries/fleet-views.js';
import { STYLESHEET } from './assets.js';
import { decisionPage } from './decision-page.js';
import { agentPage, fleetPage } from './fleet-page.js';
import { homePage } from './home-page.js';
import { redirect, SECURITY_HEADERS, sendNotFound, sendPage, type Viewer } from './layout.js';
import { mergeGroupAt, mergeGroupPage, undecidedPage } from './merge-group-page.js';
import type { Session } from './sessions.js';
import type { WebContext } from './web-context.js';

/** A signed-in GET (or HEAD) of a page, with what its path matched. */
export interface PageRequest {
  ctx: WebContext;
  res: ServerResponse;
  url: URL;
  session: Session;
  viewer: Viewer;
  match: RegExpExecArray;
}

interface PageRoute {
  path: RegExp;
  /** For the people the configuration names; to anyone else the page does not exist. */
  adminOnly?: boolean;
  handle(p: PageRequest): Promise<void> | void;
}

/** `owner/name` from two path segments; null for one that is not valid percent-encoding. */
function repositoryOf(owner: string, name: string): string | null {
  try {
    return `${decodeURIComponent(owner)}/${decodeURIComponent(name)}`;
  } catch {
    return null;
  }
}

function stylesheet({ res }: PageRequest) {
  res.writeHead(200, {
    ...SECURITY_HEADERS,
    'content-type': 'text/css; charset=utf-8',
    'content-length': Buffer.byteLength(STYLESHEET),
  });
  res.end(STYLESHEET);
}

async function home({ ctx, res, session, viewer }: PageRequest) {
  sendPage(res, 200, await homePage(ctx.governance, viewer, (r) => ctx.canSee(session, r)));
}

async function decision({ ctx, res, session, viewer, match }: PageRequest) {
  const repository = repositoryOf(match[1]!, match[2]!);
  if (!repository || !ctx.canSee(session, repository)) return sendNotFound(res, viewer);
  const view = await ctx.decisions.read(repository, Number(match[3]), ctx.now());
  // A repository the person can see: a PR with no decision yet says so (a queued check links here).
  if (!view) return sendPage(res, 200, undecidedPage(repository, Number(match[3]), viewer));
  sendPage(res, 200, decisionPage(view, viewer));
}

/** A check run's link names the commit: the PR decided at it, or the merge group whose commit it is. */
async function commit({ ctx, res, session, viewer, match }: PageRequest) {
  const repository = repositoryOf(match[1]!, match[2]!);
  if (!repository || !ctx.canSee(session, repository)) return sendNotFound(res, viewer);
  const pr = await ctx.decisions.pullRequestAt(repository, match[3]!);
  if (pr) return redirect(res, `/decisions/${pr.repository}/${pr.number}`);
  // A merge queue's check names the group's commit, which no PR decision is at.
  const group = await mergeGroupAt(ctx.governance, repository, match[3]!);
  if (group) return sendPage(res, 200, mergeGroupPage(group, viewer));
  sendNotFound(res, viewer);
}

async function fleet({ ctx, res, url, viewer }: PageRequest) {
  const filter = {
    status: url.searchParams.get('status'),
    tier: url.searchParams.get('tier'),
    q: url.searchParams.get('q'),
  };
  sendPage(res, 200, fleetPage(await ctx.fleet.read(ctx.now(), filter), filter, viewer));
}

async function agent({ ctx, res, viewer, match }: PageRequest) {
  const found = (await ctx.fleet.agents(ctx.now())).find((r) => r.id === match[1]);
  if (!found) return sendNotFound(res, viewer);
  const { config, store } = ctx.governance;
  const chart = {
    ...(await ctx.fleet.history(found.id)),
    budgetLimit: config.budgets.limit,
    windowHours: config.budgets.window_hours,
    now: ctx.now(),
  };
  sendPage(
    res,
    200,
    agentPage(found, chart, await fleetViewsAsync.latestForAgent(store.reader, found.id, 100), viewer),
  );
}

/** The pages behind a session, first match wins; any other path is the one "not found". */
export const PAGE_ROUTES: PageRoute[] = [
  { path: /^\/assets\/web\.css$/, handle: stylesheet },
  { path: /^\/$/, handle: home },
  { path: /^\/decisions\/([^/]+)\/([^/]+)\/(\d{1,9})$/, handle: decision },
  { path: /^\/fleet$/, adminOnly: true, handle: fleet },
  { path: /^\/fleet\/agents\/([a-z0-9][a-z0-9-]{0,62})$/, adminOnly: true, handle: agent },
  { path: /^\/decisions\/([^/]+)\/([^/]+)\/commit\/([0-9a-f]{40})$/, handle: commit },
];
