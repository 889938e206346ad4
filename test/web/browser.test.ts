/**
 * The pages in a real browser: Debian's headless Chromium driven by playwright-core (no browser
 * download), against the whole service wired to loopback stand-ins of GitHub (as Enterprise Server:
 * the App's REST API and the OAuth web flow) and Slack's Web API. As the issue says: an
 * unauthenticated visit goes to sign-in; sign-in goes through the stand-in's OAuth pages; the
 * decision page of a PR waiting on two gates shows both and who is missing; a signed Slack click
 * changes it; the fleet and an agent's chart open; agent text never becomes markup. Screenshots
 * land in test-artifacts/web (git-ignored).
 */
import { mkdirSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join, resolve } from 'node:path';
import { type Browser, chromium, type Locator, type Response } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningService } from '../../src/app/service.js';
import { GithubStandIn } from '../../src/demo/github-stand-in.js';
import { SlackStandIn } from '../../src/demo/slack-stand-in.js';
import { standInEnv } from '../../src/demo/stand-in-env.js';
import { deliverPullRequest } from '../../src/demo/stand-in-requests.js';
import { buttonBody, postSlack, SLACK_SECRET } from '../helpers/slack.js';
import { CLIENT_ID, startWebService } from './web-helpers.js';

const ARTIFACTS = resolve(import.meta.dirname, '../../test-artifacts/web');
const WEBHOOK_SECRET = 'browser-webhook-secret';
const HOSTILE_TITLE = `<script>alert(1)</script><img src=x onerror="window.__pwned='img'">`;
const REPO = 'octo/widgets';
const HEAD = 'c'.repeat(40);

const ORG = `
agents:
  - { id: builder-bot, tier: T2, owner: olivia, github_logins: ["builder-bot[bot]"] }
approvers:
  - { github: alice, slack: UALICE }
  - { github: bob, slack: UBOB }
  - { github: carol, slack: UCAROL }
people:
  - { github: olivia, slack: UOLIVIA }
slack:
  approvals_channel: C0APPROVALS
`;

const POLICY = `
rules:
  protected_paths: { paths: ["infra/**"], action: require_approval, gate: security }
  dependencies: { files: ["**/package.json"], action: require_approval, gate: platform }
gates:
  security: { approvals: 1, approvers: [alice, bob], allow_owner: false }
  platform: { approvals: 1, approvers: [carol], allow_owner: false }
`;

/**
 * The GitHub stand-in with GitHub's OAuth web flow and user endpoints added, at GHE's paths: the
 * authorize page sends the browser straight back (as GitHub does once the App is authorized), and
 * the token it hands out shows alice, who sees octo/widgets through installation 5.
 */
class GithubWithOAuth extends GithubStandIn {
  protected override handle(req: IncomingMessage, body: string, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const json = (value: unknown) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(value));
    if (url.pathname === '/login/oauth/authorize') {
      if (url.searchParams.get('client_id') !== CLIENT_ID) return res.writeHead(400).end();
      const back = new URL(url.searchParams.get('redirect_uri')!);
      back.searchParams.set('code', 'browser-code');
      back.searchParams.set('state', url.searchParams.get('state')!);
      return res.writeHead(302, { location: back.href }).end();
    }
    if (url.pathname === '/login/oauth/access_token' && req.method === 'POST') {
      const form = body.startsWith('{') ? JSON.parse(body) : Object.fromEntries(new URLSearchParams(body));
      return form.code === 'browser-code' ? json({ access_token: 'ghu_b' }) : res.writeHead(400).end();
    }
    if (url.pathname.startsWith('/api/v3/user')) {
      if (req.headers.authorization !== 'Bearer ghu_b') return res.writeHead(401).end();
      if (url.pathname === '/api/v3/user') return json({ login: 'alice' });
      if (url.pathname === '/api/v3/user/installations')
        return json({ total_count: 1, installations: [{ id: 5 }] });
      if (url.pathname === '/api/v3/user/installations/5/repositories')
        return json({ total_count: 1, repositories: [{ full_name: REPO }] });
    }
    super.handle(req, body, res);
  }
}

let browser: Browser;
let github: GithubWithOAuth;
let slack: SlackStandIn;
let service: RunningService;
let base: string;
/** What a reader sees of an element, whitespace folded. */
const text = async (l: Locator) => ((await l.textContent()) ?? '').replace(/\s+/g, ' ').trim();
/** Every URL a navigation went through, first to last. */
function redirectChain(response: Response | null): string[] {
  const urls: string[] = [];
  for (let r = response?.request() ?? null; r; r = r.redirectedFrom()) urls.unshift(r.url());
  return urls;
}

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  github = await new GithubWithOAuth('octo', 'widgets').start();
  slack = await new SlackStandIn().start();
  github.policy = POLICY;
  github.pulls.set(7, {
    number: 7,
    title: HOSTILE_TITLE,
    author: 'builder-bot[bot]',
    headSha: HEAD,
    files: [
      { filename: 'infra/cache.tf', patch: '@@ -1 +1 @@\n+size = 2' },
      { filename: 'package.json', patch: '@@ -1 +1 @@\n+"left-pad": "1.3.0"' },
    ],
  });
  service = await startWebService(
    standInEnv(github, slack, { webhook: WEBHOOK_SECRET, slack: SLACK_SECRET }),
    ORG,
  );
  base = `http://127.0.0.1:${service.port}`;
  // Chromium now and then hangs at start on a loaded machine: a second start gets it.
  browser = await launchChromium().catch(() => launchChromium());
}, 90_000);

function launchChromium(): Promise<Browser> {
  return chromium.launch({
    timeout: 30_000,
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
}

afterAll(async () => {
  await browser?.close();
  await service?.stop();
  github?.stop();
  slack?.stop();
});

describe('in headless Chromium', () => {
  it('signs in through GitHub, shows both gates and who is missing, follows a signed Slack approval, opens the fleet and the chart', async () => {
    const delivered = await deliverPullRequest(base, WEBHOOK_SECRET, github.pullRequestPayload(7), 'd-7');
    expect(delivered.status).toBeLessThan(300);
    await service.github!.drain();
    await service.slack!.pump.runNow();

    const context = await browser.newContext({ viewport: { width: 360, height: 800 } });
    const page = await context.newPage();
    const dialogs: string[] = [];
    page.on('dialog', async (d) => {
      dialogs.push(d.message());
      await d.dismiss();
    });
    // Not signed in: the page sends the browser to sign-in, which goes to GitHub's authorize page
    // and back, and lands on the page first asked for.
    const landed = await page.goto(`${base}/decisions/${REPO}/7`);
    const chain = redirectChain(landed);
    expect(chain[0]).toBe(`${base}/decisions/${REPO}/7`);
    expect(chain[1]).toBe(`${base}/auth/signin?return_to=${encodeURIComponent(`/decisions/${REPO}/7`)}`);
    expect(chain[2]).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${github.port}/login/oauth/authorize\\?`));
    expect(chain[3]).toMatch(new RegExp(`^${base}/auth/callback\\?code=browser-code&state=`));
    expect(page.url()).toBe(`${base}/decisions/${REPO}/7`);
    const cookies = await context.cookies();
    expect(cookies.find((c) => c.name === 'agov_session')).toMatchObject({ httpOnly: true, sameSite: 'Lax' });

    // The agent's title, markup and all, is text on the page, and nothing in it ran.
    expect(await text(page.locator('h1'))).toBe(HOSTILE_TITLE);
    expect(await page.evaluate(() => (globalThis as { __pwned?: string }).__pwned)).toBeUndefined();
    expect(dialogs).toEqual([]);

    const security = page.locator('section.gate', { hasText: 'Gate security' });
    const platform = page.locator('section.gate', { hasText: 'Gate platform' });
    expect(await text(security.locator('.state'))).toBe('waiting');
    expect(await text(platform.locator('.state'))).toBe('waiting');
    expect(await text(security)).toContain('1 more, from: alice, bob');
    expect(await text(platform)).toContain('1 more, from: carol');
    await page.screenshot({ path: join(ARTIFACTS, 'decision-waiting.png'), fullPage: true });

    // bob clicks Approve on the card in Slack: a signed request to /slack/events.
    const cards = slack.approvalCards();
    expect(cards.length).toBeGreaterThanOrEqual(1);
    const clicked = await postSlack(service.port, buttonBody('approval_approve', cards[0]!, 'UBOB'));
    expect(clicked.status).toBe(200);
    await service.slack!.receiver.idle();
    await service.github!.drain();
    await page.reload();
    expect(await text(security.locator('.state'))).toBe('approved');
    expect(await text(security)).toMatch(/bob via slack at .+ under head ccccccc and policy/);
    expect(await text(platform.locator('.state'))).toBe('waiting');
    expect(await text(platform)).toContain('1 more, from: carol');
    await page.screenshot({ path: join(ARTIFACTS, 'decision-approved.png'), fullPage: true });
    // The same page on a wide screen, its first screenful: the picture in the README.
    await page.setViewportSize({ width: 1100, height: 1350 });
    await page.screenshot({ path: join(ARTIFACTS, 'decision-wide.png') });
    await page.setViewportSize({ width: 360, height: 800 });

    await page.goto(`${base}/fleet`);
    expect(await text(page.locator('h1'))).toBe('Fleet');
    await page.screenshot({ path: join(ARTIFACTS, 'fleet.png'), fullPage: true });
    await page.goto(`${base}/fleet/agents/builder-bot`);
    expect(await page.locator('svg.chart').count()).toBe(1);
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.screenshot({ path: join(ARTIFACTS, 'agent.png'), fullPage: true });
    expect(dialogs).toEqual([]);
    await context.close();
  });

  it('markup that got into a page anyway cannot run script: the CSP blocks inline script and handlers', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();

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
