import type { IncomingMessage, ServerResponse } from 'node:http';
import { isUserError } from '../platform/errors.js';
import { authorizeUrl, exchangeCode, readPerson } from './github-oauth.js';
import { html, type SafeHtml } from './html.js';
import { page, redirect, sendNotFound, sendPage } from './layout.js';
import { localPath } from './sessions.js';
import type { WebContext } from './web-context.js';

type AuthHandler = (
  ctx: WebContext,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
) => Promise<void> | void;

/** Sends a "Sign-in failed" page and clears the sign-in state. */
function signInFailed(
  ctx: WebContext,
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  body: SafeHtml,
) {
  return sendPage(res, status, page('Sign-in failed', null, body), { 'set-cookie': ctx.sessions.clear(req) });
}

const signIn: AuthHandler = (ctx, req, res, url) => {
  const begun = ctx.sessions.beginSignIn(req, localPath(url.searchParams.get('return_to')));
  return redirect(res, authorizeUrl(ctx.config, ctx.callbackUrl(req), begun.state), {
    'set-cookie': begun.cookie,
  });
};

const callback: AuthHandler = async (ctx, req, res, url) => {
  const started = await ctx.sessions.finishSignIn(req, url.searchParams.get('state'));
  const code = url.searchParams.get('code');
  if (!started || !code) {
    const why = url.searchParams.get('error')
      ? 'GitHub did not sign you in.'
      : 'This sign-in was not started from this browser, or it took longer than ten minutes.';
    return signInFailed(
      ctx,
      req,
      res,
      400,
      html`<h1>Sign-in failed</h1><p>${why}</p><p><a href="/auth/signin">Sign in again</a></p>`,
    );
  }
  try {
    const token = await exchangeCode(ctx.config, code, ctx.callbackUrl(req));
    const person = await readPerson(ctx.config, token);
    ctx.logger.info({ login: person.login, repositories: person.repositories.length }, 'web sign-in');
    const cookie = ctx.sessions.issue(req, person.login, person.repositories);
    if (!cookie)
      return signInFailed(
        ctx,
        req,
        res,
        403,
        html`<h1>Too many repositories for one session</h1><p>${person.login} can see ${person.repositories.length} repositories through this App; a session holds about 300. This is a known limit of the web pages.</p>`,
      );
    return redirect(res, started.returnTo, { 'set-cookie': [cookie, ctx.sessions.clear(req)[1]!] });
  } catch (error) {
    // GitHub refusing the code is the person's to retry; GitHub unreachable is too, and says so
    // on the page (with the security headers), never as a bare 500.
    ctx.logger.warn({ err: error }, 'web sign-in failed');
    const reason = isUserError(error) ? error.message : 'GitHub could not be reached to finish signing in';
    return signInFailed(
      ctx,
      req,
      res,
      502,
      html`<h1>Sign-in failed</h1><p>${reason}</p><p><a href="/auth/signin">Try again</a></p>`,
    );
  }
};

const signOut: AuthHandler = async (ctx, req, res) => {
  // Another site may not sign a person out: a browser names the page's origin on a POST.
  const origin = req.headers.origin;
  if (origin && origin !== new URL(ctx.callbackUrl(req)).origin) return sendNotFound(res, null);
  await ctx.sessions.end(req);
  return redirect(res, '/auth/signedout', { 'set-cookie': ctx.sessions.clear(req) });
};

const signedOut: AuthHandler = (_ctx, _req, res) =>
  sendPage(
    res,
    200,
    page('Signed out', null, html`<h1>Signed out</h1><p><a href="/auth/signin">Sign in</a></p>`),
  );

const AUTH_ROUTES: { method: string; path: string; handle: AuthHandler }[] = [
  { method: 'GET', path: '/auth/signin', handle: signIn },
  { method: 'GET', path: '/auth/callback', handle: callback },
  { method: 'POST', path: '/auth/signout', handle: signOut },
  { method: 'GET', path: '/auth/signedout', handle: signedOut },
];

/** Sign-in with GitHub and sign-out: open to anyone, each at one method and path. */
export function handleAuth(ctx: WebContext, req: IncomingMessage, res: ServerResponse, url: URL) {
  const route = AUTH_ROUTES.find((r) => r.path === url.pathname && r.method === req.method);
  return route ? route.handle(ctx, req, res, url) : sendNotFound(res, null);
}
