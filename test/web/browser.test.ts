/**
 * The pages in a real browser: Debian's headless Chromium driven by playwright-core (no browser
 * download). Sign-in goes through a loopback stand-in of GitHub's OAuth endpoints (GHE_HOST), the
 * decision page shows both gates and who is missing, an approval changes it, and neither agent text
 * nor markup slipped into the page can run script under the page's CSP.
 */
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { type Browser, chromium, type Locator } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningService } from '../../src/service.js';
import { CLIENT_ID, REPO, recordApproval, recordWaitingDecision, startWebService } from './web-helpers.js';

const ARTIFACTS = resolve(import.meta.dirname, '../../test-artifacts/web');
const HOSTILE_TITLE = `<img src=x onerror="window.__pwned='img'"><script>window.__pwned='script'</script>`;

let browser: Browser;
/** What a reader sees of an element, whitespace folded. */
const text = async (l: Locator) => ((await l.textContent()) ?? '').replace(/\s+/g, ' ').trim();
let github: Server;
let service: RunningService;

/** GitHub's OAuth web flow and the user endpoints, at GHE's paths, for alice who sees octo/widgets. */
function githubStandIn(): Promise<Server> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const json = (body: unknown) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (url.pathname === '/login/oauth/authorize' && url.searchParams.get('client_id') === CLIENT_ID) {
      const back = new URL(url.searchParams.get('redirect_uri')!);
      back.searchParams.set('code', 'browser-code');
      back.searchParams.set('state', url.searchParams.get('state')!);
      res.writeHead(302, { location: back.href });
      return res.end();
    }
    if (url.pathname === '/login/oauth/access_token' && req.method === 'POST')
      return json({ access_token: 'ghu_b' });
    if (req.headers.authorization !== 'Bearer ghu_b') {
      res.writeHead(401);
      return res.end();
    }
    if (url.pathname === '/api/v3/user') return json({ login: 'alice' });
    if (url.pathname === '/api/v3/user/installations')
      return json({ total_count: 1, installations: [{ id: 5 }] });
    if (url.pathname === '/api/v3/user/installations/5/repositories')
      return json({ total_count: 1, repositories: [{ full_name: REPO }] });
    res.writeHead(404);
    res.end();
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(server)));
}

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  github = await githubStandIn();
  service = await startWebService({
    GHE_HOST: `127.0.0.1:${(github.address() as AddressInfo).port}`,
    GHE_PROTOCOL: 'http',
  });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});

afterAll(async () => {
  await browser?.close();
  await service?.stop();
  await new Promise((r) => github?.close(r));
});

describe('in headless Chromium', () => {
  it('signs in through GitHub, shows both gates and who is missing, and follows an approval', async () => {
    await recordWaitingDecision(service, { title: HOSTILE_TITLE });
    const context = await browser.newContext({ viewport: { width: 360, height: 800 } });
    const page = await context.newPage();
    const base = `http://127.0.0.1:${service.port}`;

    await page.goto(`${base}/decisions/${REPO}/7`);
    expect(page.url()).toBe(`${base}/decisions/${REPO}/7`);
    const cookies = await context.cookies();
    expect(cookies.find((c) => c.name === 'agov_session')).toMatchObject({ httpOnly: true, sameSite: 'Lax' });

    // The hostile title is text on the page, and nothing in it ran.
    expect(await text(page.locator('h1'))).toBe(HOSTILE_TITLE);
    expect(await page.evaluate(() => (globalThis as { __pwned?: string }).__pwned)).toBeUndefined();

    const security = page.locator('section.gate', { hasText: 'Gate security' });
    const platform = page.locator('section.gate', { hasText: 'Gate platform' });
    expect(await text(security.locator('.state'))).toBe('waiting');
    expect(await text(platform.locator('.state'))).toBe('waiting');
    expect(await text(security)).toContain('1 more, from: alice, bob');
    expect(await text(platform)).toContain('1 more, from: carol');
    await page.screenshot({ path: join(ARTIFACTS, 'decision-waiting.png'), fullPage: true });

    await recordApproval(service, 'bob', 'security');
    await page.reload();
    expect(await text(security.locator('.state'))).toBe('approved');
    expect(await text(security)).toMatch(/bob via slack at .+ under head bbbbbbb and policy pv-1/);
    expect(await text(platform.locator('.state'))).toBe('waiting');
    await page.screenshot({ path: join(ARTIFACTS, 'decision-approved.png'), fullPage: true });

    await page.goto(`${base}/fleet`);
    expect(await text(page.locator('h1'))).toBe('Fleet');
    await page.goto(`${base}/fleet/agents/builder-bot`);
    expect(await page.locator('svg.chart').count()).toBe(1);
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.screenshot({ path: join(ARTIFACTS, 'agent.png'), fullPage: true });
    await context.close();
  });

  it('markup that got into a page anyway cannot run script: the CSP blocks inline script and handlers', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const base = `http://127.0.0.1:${service.port}`;
    await page.goto(`${base}/decisions/${REPO}/7`);
    const violations: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy/.test(m.text())) violations.push(m.text());
    });
    // Simulate an escaping bug: the server's answer, with its headers, and raw markup added to the body.
    await page.route(`${base}/decisions/${REPO}/7`, async (route) => {
      const response = await route.fetch();
      const body = (await response.text()).replace(
        '<main id="main">',
        `<main id="main"><img src="/nope" onerror="window.__pwned='img'"><script>window.__pwned='script'</script>`,
      );
      await route.fulfill({ response, body });
    });
    await page.reload();
    await page.locator('h1').waitFor();
    expect(await page.locator('main script').count()).toBe(1);
    expect(await page.evaluate(() => (globalThis as { __pwned?: string }).__pwned)).toBeUndefined();
    expect(violations.length).toBeGreaterThanOrEqual(1);
    await context.close();
  });
});
