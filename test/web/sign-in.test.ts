/**
 * Sign-in with GitHub, attacked: no page without a session, a forged, altered, expired or
 * misused cookie is no session, a callback without this browser's `state` signs nobody in, and a
 * signed-in person cannot tell a decision they may not see from one that does not exist.
 */
import { statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunningService } from '../../src/app/service.js';
import { sealCookie } from '../../src/web/signed-cookie.js';
import {
  CLIENT_ID,
  cookieHeader,
  cookiesOf,
  githubSignIn,
  REPO,
  recordWaitingDecision,
  SESSION_SECRET,
  signIn,
  startWebService,
} from './web-helpers.js';

let service: RunningService | null = null;
beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});
afterAll(() => nock.enableNetConnect());
afterEach(async () => {
  await service?.stop();
  service = null;
  nock.cleanAll();
});

async function start(env: Record<string, string> = {}) {
  service = await startWebService(env);
  return { s: service, base: `http://127.0.0.1:${service.port}` };
}

const get = (url: string, cookie?: string) =>
  fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {} });

describe('nothing without sign-in', () => {
  it('pages redirect to sign-in; health, readiness and metrics stay open', async () => {
    const { s, base } = await start();
    await recordWaitingDecision(s);
    for (const path of [`/decisions/${REPO}/7`, '/fleet', '/', '/fleet/agents/builder-bot']) {
      const res = await get(base + path);
      expect(res.status, path).toBe(302);
      expect(res.headers.get('location')).toBe(`/auth/signin?return_to=${encodeURIComponent(path)}`);
      expect(await res.text()).toBe('');
    }
    expect((await get(`${base}/assets/web.css`)).status).toBe(404);
    expect((await get(`${base}/healthz`)).status).toBe(200);
    expect((await get(`${base}/readyz`)).status).toBe(200);
    expect((await get(`${base}/metrics`)).status).toBe(200);
  });

  it('sign-in sends the browser to GitHub with the client id, the callback and a fresh state bound by a cookie', async () => {
    const { base } = await start();
    const res = await get(`${base}/auth/signin?return_to=%2Fdecisions%2Focto%2Fwidgets%2F7`);
    const to = new URL(res.headers.get('location')!);
    expect(`${to.origin}${to.pathname}`).toBe('https://github.com/login/oauth/authorize');
    expect(to.searchParams.get('client_id')).toBe(CLIENT_ID);
    expect(to.searchParams.get('redirect_uri')).toBe(`${base}/auth/callback`);
    expect(to.searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const [cookie] = res.headers.getSetCookie();
    expect(cookie).toMatch(/^agov_oauth_state=[^;]+; Path=\/; HttpOnly; SameSite=Lax; Max-Age=600$/);
    const again = new URL((await get(`${base}/auth/signin`)).headers.get('location')!);
    expect(again.searchParams.get('state')).not.toBe(to.searchParams.get('state'));
  });
});

describe('the OAuth callback', () => {
  it('signs a person in: session cookie HttpOnly, SameSite=Lax, with expiry; back to where they were going', async () => {
    const { s, base } = await start();
    await recordWaitingDecision(s);
    const { jar, response, githubCalled } = await signIn(s.port, 'alice', [REPO], `/decisions/${REPO}/7`);
    expect(githubCalled).toBe(true);
    expect(response.headers.get('location')).toBe(`/decisions/${REPO}/7`);
    const session = response.headers.getSetCookie().find((c) => c.startsWith('agov_session='))!;
    expect(session).toMatch(/; Path=\/; HttpOnly; SameSite=Lax; Max-Age=28800$/);
    expect(session).not.toContain('Secure');
    const page = await get(`${base}/decisions/${REPO}/7`, cookieHeader(jar));
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Bump the widget cache');
  });

  it('without the state cookie (a link from another site), nobody is signed in and GitHub is never asked', async () => {
    const { base } = await start();
    const gh = githubSignIn('mallory', [REPO]);
    const res = await get(`${base}/auth/callback?code=the-code&state=${'x'.repeat(43)}`);
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('This sign-in was not started from this browser');
    expect(res.headers.getSetCookie().some((c) => /^agov_session=[^;]/.test(c))).toBe(false);
    expect(gh.web.isDone()).toBe(false);
  });

  it('with a state that does not match this browser’s, or no state at all, nobody is signed in', async () => {
    const { base } = await start();
    const mine = await get(`${base}/auth/signin`);
    const theirs = await get(`${base}/auth/signin`);
    const theirState = new URL(theirs.headers.get('location')!).searchParams.get('state');
    const gh = githubSignIn('mallory', [REPO]);
    const cookie = cookieHeader(cookiesOf(mine));
    const mismatched = await get(`${base}/auth/callback?code=the-code&state=${theirState}`, cookie);
    expect(mismatched.status).toBe(400);
    const missing = await get(`${base}/auth/callback?code=the-code`, cookie);
    expect(missing.status).toBe(400);
    expect(gh.web.isDone()).toBe(false);
  });

  it('a state cookie older than ten minutes is refused', async () => {
    const { base } = await start();
    const old = sealCookie(Buffer.from(SESSION_SECRET), 'oauth-state', {
      state: 'y'.repeat(43),
      returnTo: '/',
      exp: Date.now() - 1000,
    });
    const res = await get(
      `${base}/auth/callback?code=the-code&state=${'y'.repeat(43)}`,
      `agov_oauth_state=${old}`,
    );
    expect(res.status).toBe(400);
  });

  it('return_to cannot send the person to another site', async () => {
    const { s } = await start();
    for (const evil of ['//evil.example/x', 'https://evil.example/', '/\\evil.example']) {
      const { response } = await signIn(s.port, 'alice', [REPO], evil);
      expect(response.headers.get('location')).toBe('/');
      nock.cleanAll();
    }
  });

  it('GitHub refusing the code signs nobody in and says so', async () => {
    const { base } = await start();
    const begun = await get(`${base}/auth/signin`);
    const state = new URL(begun.headers.get('location')!).searchParams.get('state');
    nock('https://github.com').post('/login/oauth/access_token').reply(200, {
      error: 'bad_verification_code',
      error_description: 'The code passed is incorrect or expired.',
    });
    const res = await get(`${base}/auth/callback?code=stale&state=${state}`, cookieHeader(cookiesOf(begun)));
    expect(res.status).toBe(502);
    expect(await res.text()).toContain('The code passed is incorrect or expired.');
    expect(res.headers.getSetCookie().some((c) => /^agov_session=[^;]/.test(c))).toBe(false);
  });
});

describe('a session cookie is trusted only as issued', () => {
  const session = (value: object, secret = SESSION_SECRET, purpose = 'session') =>
    `agov_session=${sealCookie(Buffer.from(secret), purpose, value)}`;

  it('forged, altered, from another key, of another purpose or expired: no session', async () => {
    const { s, base } = await start();
    await recordWaitingDecision(s);
    const { jar } = await signIn(s.port, 'bob', [REPO]);
    const real = jar.get('agov_session')!;
    const [body, mac] = real.split('.');
    const flipped = `${body!.slice(0, -2)}${body!.at(-2) === 'A' ? 'B' : 'A'}${body!.at(-1)}.${mac}`;
    const later = Date.now() + 3600_000;
    const cookies = {
      forged: 'agov_session=eyJsb2dpbiI6Im1hbGxvcnkifQ.AAAA',
      altered: `agov_session=${flipped}`,
      'mac of another cookie': `agov_session=${body}.${jar
        .get('agov_session')!
        .split('.')[1]!
        .replace(/^./, (c) => (c === 'A' ? 'B' : 'A'))}`,
      'other key': session({ login: 'mallory', repos: [REPO], exp: later }, 'k'.repeat(48)),
      'state cookie as session': session(
        { login: 'mallory', repos: [REPO], exp: later },
        SESSION_SECRET,
        'oauth-state',
      ),
      expired: session({ login: 'bob', repos: [REPO], exp: Date.now() - 1 }),
      'no expiry': session({ login: 'bob', repos: [REPO] }),
    };
    expect((await get(`${base}/decisions/${REPO}/7`, `agov_session=${real}`)).status).toBe(200);
    for (const [what, cookie] of Object.entries(cookies)) {
      const res = await get(`${base}/decisions/${REPO}/7`, cookie);
      expect(res.status, what).toBe(302);
      expect(res.headers.get('location'), what).toMatch(/^\/auth\/signin\?/);
    }
  });

  it('signing out clears the cookie', async () => {
    const { s, base } = await start();
    const { jar } = await signIn(s.port, 'bob', [REPO]);
    const res = await fetch(`${base}/auth/signout`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: cookieHeader(jar) },
    });
    expect(res.status).toBe(302);
    expect(res.headers.getSetCookie()).toContain('agov_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0');
  });

  it('with an https PUBLIC_URL the cookies are Secure and the callback is the public one', async () => {
    const { base } = await start({ PUBLIC_URL: 'https://governance.example.com/' });
    const res = await get(`${base}/auth/signin`);
    expect(new URL(res.headers.get('location')!).searchParams.get('redirect_uri')).toBe(
      'https://governance.example.com/auth/callback',
    );
    expect(res.headers.getSetCookie()[0]).toMatch(/; Secure$/);
  });
});

describe('a person sees only the repositories GitHub shows them', () => {
  it('a decision of a repository they cannot see is the same 404 as one that does not exist', async () => {
    const { s, base } = await start();
    await recordWaitingDecision(s, {
      repository: 'octo/secret-infra',
      number: 3,
      title: 'Rotate the root keys',
    });
    await recordWaitingDecision(s);
    const { jar } = await signIn(s.port, 'alice', [REPO]);
    const hidden = await get(`${base}/decisions/octo/secret-infra/3`, cookieHeader(jar));
    const absent = await get(`${base}/decisions/octo/no-such-repo/3`, cookieHeader(jar));
    const hiddenText = await hidden.text();
    expect(hidden.status).toBe(404);
    expect(absent.status).toBe(404);
    expect(hiddenText).toBe(await absent.text());
    expect(hiddenText).not.toContain('Rotate the root keys');
    const home = await (await get(`${base}/`, cookieHeader(jar))).text();
    expect(home).toContain('Bump the widget cache');
    expect(home).not.toContain('secret-infra');
    // Neither is an encoded slash, nor a broken escape (no 500 either).
    expect((await get(`${base}/decisions/octo%2Fsecret-infra/x/3`, cookieHeader(jar))).status).toBe(404);
    expect((await get(`${base}/decisions/octo/%E0%A4%A/3`, cookieHeader(jar))).status).toBe(404);
    // Case is not a way around it.
    expect((await get(`${base}/decisions/OCTO/Secret-Infra/3`, cookieHeader(jar))).status).toBe(404);
    expect((await get(`${base}/decisions/OCTO/Widgets/7`, cookieHeader(jar))).status).toBe(200);
  });
});

describe('a session too large for a browser cookie', () => {
  it('is refused with a page that says why, not dropped by the browser into a sign-in loop', async () => {
    const { base } = await start();
    const begun = await get(`${base}/auth/signin`);
    const state = new URL(begun.headers.get('location')!).searchParams.get('state');
    const many = Array.from({ length: 1000 }, (_, i) => `octo/service-${(i * 7919).toString(36)}-${i}`);
    githubSignIn('alice', many.slice(0, 100));
    nock('https://api.github.com')
      .get('/user/installations/77/repositories')
      .query(true)
      .times(9)
      .reply(200, (uri) => {
        const page = Number(new URL(uri, 'http://x').searchParams.get('page'));
        return {
          total_count: many.length,
          repositories: many.slice((page - 1) * 100, page * 100).map((full_name) => ({ full_name })),
        };
      });
    const res = await get(
      `${base}/auth/callback?code=the-code&state=${state}`,
      cookieHeader(cookiesOf(begun)),
    );
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('alice can see 1000 repositories through this App');
    expect(res.headers.getSetCookie().some((c) => /^agov_session=[^;]/.test(c))).toBe(false);
  });
});

describe('the session key', () => {
  it('without WEB_SESSION_SECRET one is generated next to the ledger, readable by the owner only', async () => {
    const { s } = await start({ WEB_SESSION_SECRET: '' });
    const path = join(dirname(s.runtime.env.LEDGER_PATH), 'web-session-secret');
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });
});

describe('what an outside attacker found on the pages', () => {
  it('signing out ends the session: the same cookie, kept or copied, opens nothing afterwards', async () => {
    service = await startWebService();
    const base = `http://127.0.0.1:${service.port}`;
    const { jar } = await signIn(service.port, 'alice', [REPO]);
    const kept = cookieHeader(jar);
    expect((await fetch(`${base}/`, { headers: { cookie: kept }, redirect: 'manual' })).status).toBe(200);
    const out = await fetch(`${base}/auth/signout`, {
      method: 'POST',
      headers: { cookie: kept, origin: base },
      redirect: 'manual',
    });
    expect(out.status).toBe(302);
    const after = await fetch(`${base}/`, { headers: { cookie: kept }, redirect: 'manual' });
    expect(after.status).toBe(302);
    expect(after.headers.get('location')).toMatch(/^\/auth\/signin/);
  });

  it('another site cannot sign a person out', async () => {
    service = await startWebService();
    const base = `http://127.0.0.1:${service.port}`;
    const { jar } = await signIn(service.port, 'alice', [REPO]);
    const forged = await fetch(`${base}/auth/signout`, {
      method: 'POST',
      headers: { cookie: cookieHeader(jar), origin: 'https://evil.example' },
      redirect: 'manual',
    });
    expect(forged.status).toBe(404);
    expect(
      (await fetch(`${base}/`, { headers: { cookie: cookieHeader(jar) }, redirect: 'manual' })).status,
    ).toBe(200);
  });

  it('a sign-in state is used once: the callback replayed with another code is refused', async () => {
    service = await startWebService();
    const base = `http://127.0.0.1:${service.port}`;
    const start = await fetch(`${base}/auth/signin`, { redirect: 'manual' });
    const state = new URL(start.headers.get('location')!).searchParams.get('state')!;
    const jar = cookiesOf(start);
    githubSignIn('alice', [REPO], 'one');
    const first = await fetch(`${base}/auth/callback?code=one&state=${state}`, {
      redirect: 'manual',
      headers: { cookie: cookieHeader(jar) },
    });
    expect(first.status).toBe(302);
    githubSignIn('mallory', [REPO], 'two');
    const replay = await fetch(`${base}/auth/callback?code=two&state=${state}`, {
      redirect: 'manual',
      headers: { cookie: cookieHeader(jar) },
    });
    expect(replay.status).not.toBe(302);
    expect(replay.headers.get('set-cookie') ?? '').not.toMatch(/agov_session=[^;]/);
  });
});
