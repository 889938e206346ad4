import { type ChildProcess, spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { parseEnv } from 'node:util';
import nock from 'nock';
import { afterEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { type RunningService, startService } from '../../src/app/service.js';
import { readEnv } from '../../src/config/read-env.js';
import { readGithubConfig } from '../../src/github/read-github-config.js';
import { createLogger } from '../../src/platform/logger.js';
import { AGOV, tempDir } from '../helpers/agov.js';

const APP_YML = parseYaml(readFileSync(resolve(import.meta.dirname, '../../app.yml'), 'utf8'));
const PEM = generateKeyPairSync('rsa', { modulusLength: 2048 })
  .privateKey.export({ type: 'pkcs1', format: 'pem' })
  .toString();

/** The documented answer of `POST /app-manifests/{code}/conversions` (201), with our own key. */
const CONVERSION = {
  id: 4242,
  slug: 'agent-governance-acme',
  node_id: 'MDxOkludGVncmF0aW9uMQ==',
  owner: { login: 'acme', id: 1, type: 'Organization' },
  name: 'Agent Governance',
  description: '',
  external_url: 'https://github.com/apps/agent-governance',
  html_url: 'https://github.com/apps/agent-governance-acme',
  created_at: '2026-11-27T10:00:00Z',
  updated_at: '2026-11-27T10:00:00Z',
  permissions: { checks: 'write', metadata: 'read' },
  events: ['pull_request'],
  client_id: 'Iv23liAbCdEf01234567',
  client_secret: 'c0ffee1638095a19edd134c77bde3aa2ece1e5d8',
  webhook_secret: 'e340154128314309424b7c8e90325147d99fdafa',
  pem: PEM,
};
/** A piece of the key's body: no log line may carry it. */
const PEM_PIECE = PEM.split('\n')[3]!;
const SECRETS = [CONVERSION.client_secret, CONVERSION.webhook_secret, PEM_PIECE];

let service: RunningService | null = null;
const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  await service?.stop();
  service = null;
  for (const close of closers.splice(0)) await close();
  nock.cleanAll();
  nock.enableNetConnect();
});

function captureLogs() {
  const lines: string[] = [];
  const stream = { write: (line: string) => lines.push(line) } as unknown as NodeJS.WritableStream;
  return { logger: createLogger('debug', stream), text: () => lines.join('') };
}

/** GitHub Enterprise Server on loopback: answers the conversion as `answer` says, records each call. */
async function gheStandIn(answer: (code: string) => { status: number; body: unknown }) {
  const calls: { method: string; path: string }[] = [];
  const server: Server = createServer((req, res) => {
    calls.push({ method: req.method ?? '', path: req.url ?? '' });
    const m = /^\/api\/v3\/app-manifests\/([^/]+)\/conversions$/.exec(req.url ?? '');
    const { status, body } =
      m && req.method === 'POST' ? answer(decodeURIComponent(m[1]!)) : { status: 404, body: {} };
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  closers.push(() => new Promise<void>((r) => server.close(() => r())));
  return { host: `127.0.0.1:${(server.address() as AddressInfo).port}`, calls };
}

async function startSetupService(env: Record<string, string> = {}, existingEnvFile?: string) {
  const dir = tempDir();
  const envPath = join(dir, '.env');
  if (existingEnvFile !== undefined) writeFileSync(envPath, existingEnvFile, { mode: 0o644 });
  const logs = captureLogs();
  service = await startService(
    readEnv({
      LEDGER_PATH: join(dir, 'data', 'ledger.db'),
      PORT: '0',
      PUBLIC_URL: 'https://gov.example.com',
      ...env,
    }),
    logs.logger,
    { setup: { envPath } },
  );
  return { dir, envPath, logs, base: `http://127.0.0.1:${service.port}` };
}

const entities: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", '#96': '`' };
const unescapeHtml = (s: string) => s.replace(/&(amp|lt|gt|quot|#39|#96);/g, (_, e: string) => entities[e]!);

/** What the setup page asks the browser to POST to GitHub: the form's target and the manifest. */
async function setupForm(base: string, query = '') {
  const res = await fetch(`${base}/${query}`);
  const text = await res.text();
  const action = /<form[^>]*action="([^"]+)"[^>]*method="post"/.exec(text)?.[1];
  const manifest = /name="manifest" value="([^"]*)"/.exec(text)?.[1];
  return {
    res,
    text,
    action: action ? new URL(unescapeHtml(action)) : null,
    manifest: manifest ? JSON.parse(unescapeHtml(manifest)) : null,
  };
}

describe('with no GitHub App configured, `/` registers one from app.yml through the manifest flow', () => {
  it('offers a form that POSTs the manifest built from app.yml to GitHub, with our URLs and a state', async () => {
    const { base } = await startSetupService();
    const form = await setupForm(base);
    expect(form.res.status).toBe(200);
    expect(form.res.headers.get('content-type')).toMatch(/^text\/html/);
    // The page's own policy must let the form reach GitHub, or the browser silently refuses.
    expect(form.res.headers.get('content-security-policy')).toMatch(/form-action https:\/\/github\.com[;\s]/);
    expect(form.action?.origin + form.action!.pathname).toBe('https://github.com/settings/apps/new');
    expect(form.action?.searchParams.get('state')).toMatch(/^[0-9a-f]{32,}$/);
    expect(form.manifest).toEqual({
      ...APP_YML,
      hook_attributes: { ...APP_YML.hook_attributes, url: 'https://gov.example.com/api/github/webhooks' },
      redirect_url: 'https://gov.example.com/setup/callback',
      callback_urls: ['https://gov.example.com/auth/callback'],
    });
    // Each visit gets its own state.
    const again = await setupForm(base);
    expect(again.action?.searchParams.get('state')).not.toBe(form.action?.searchParams.get('state'));
  });

  it('registers under an organisation with ?org=, and refuses a name that is not one', async () => {
    const { base } = await startSetupService();
    const form = await setupForm(base, '?org=acme-corp');
    expect(form.action?.origin + form.action!.pathname).toBe(
      'https://github.com/organizations/acme-corp/settings/apps/new',
    );
    for (const org of ['acme/../evil', '<script>', '-acme', 'a'.repeat(40)]) {
      const bad = await setupForm(base, `?org=${encodeURIComponent(org)}`);
      expect(bad.res.status).toBe(400);
      expect(bad.action).toBeNull();
      expect(bad.text).toContain('is not a GitHub organisation name');
      expect(bad.text).not.toContain('<script>');
    }
  });

  it('success: exchanges the code, writes .env (0600, other lines kept), says to restart; secrets never logged', async () => {
    const ghe = await gheStandIn(() => ({ status: 201, body: CONVERSION }));
    const existing = '# my settings\nAPP_ID=\nLOG_LEVEL=debug\nexport FOO="bar baz"\n';
    const { base, envPath, logs } = await startSetupService(
      { GHE_HOST: ghe.host, GHE_PROTOCOL: 'http' },
      existing,
    );
    const form = await setupForm(base);
    expect(form.action?.origin + form.action!.pathname).toBe(`http://${ghe.host}/settings/apps/new`);
    const state = form.action!.searchParams.get('state')!;

    const res = await fetch(`${base}/setup/callback?code=a1b2c3d4&state=${state}`);
    const page = await res.text();
    expect(res.status).toBe(200);
    expect(page).toContain('restart the service');
    expect(page).toContain('https://github.com/apps/agent-governance-acme/installations/new');
    for (const secret of SECRETS) expect(page).not.toContain(secret);
    expect(ghe.calls).toEqual([{ method: 'POST', path: '/api/v3/app-manifests/a1b2c3d4/conversions' }]);

    expect(statSync(envPath).mode & 0o777).toBe(0o600);
    const text = readFileSync(envPath, 'utf8');
    expect(text.startsWith('# my settings\nAPP_ID=4242\nLOG_LEVEL=debug\nexport FOO="bar baz"\n')).toBe(true);
    expect(text.match(/^APP_ID=/gm)).toHaveLength(1);
    const parsed = parseEnv(text);
    expect(parsed).toMatchObject({
      APP_ID: '4242',
      WEBHOOK_SECRET: CONVERSION.webhook_secret,
      GITHUB_CLIENT_ID: CONVERSION.client_id,
      GITHUB_CLIENT_SECRET: CONVERSION.client_secret,
      LOG_LEVEL: 'debug',
      FOO: 'bar baz',
    });
    // What the restarted service will read is the App GitHub created.
    const github = readGithubConfig(readEnv(parsed));
    expect(github).toMatchObject({
      appId: '4242',
      privateKey: PEM,
      webhookSecret: CONVERSION.webhook_secret,
    });

    const logged = logs.text();
    expect(logged).toContain('GitHub App agent-governance-acme (id 4242) registered');
    for (const secret of [...SECRETS, 'a1b2c3d4']) expect(logged).not.toContain(secret);

    // The same state again (a replay, a reload) is refused and changes nothing.
    const before = { text, mtime: statSync(envPath).mtimeMs };
    const replay = await fetch(`${base}/setup/callback?code=a1b2c3d4&state=${state}`);
    expect(replay.status).toBe(400);
    expect(await replay.text()).toContain('already registered');
    expect({ text: readFileSync(envPath, 'utf8'), mtime: statSync(envPath).mtimeMs }).toEqual(before);
    expect(ghe.calls).toHaveLength(1);
    // `/` no longer offers to register another App over this one.
    const after = await setupForm(base);
    expect(after.action).toBeNull();
    expect(after.text).toContain('restart the service');
  });

  it('a forged, missing or replayed state is refused with a clear page, writes nothing and asks GitHub nothing', async () => {
    const ghe = await gheStandIn(() => ({ status: 201, body: CONVERSION }));
    const { base, envPath } = await startSetupService({ GHE_HOST: ghe.host, GHE_PROTOCOL: 'http' });
    const issued = (await setupForm(base)).action!.searchParams.get('state')!;
    for (const query of [
      `code=abc&state=${'f'.repeat(32)}`,
      'code=abc',
      'code=abc&state=',
      `code=abc&state=${issued}x`,
    ]) {
      const res = await fetch(`${base}/setup/callback?${query}`);
      expect(res.status).toBe(400);
      const page = await res.text();
      expect(page).toContain('was not started from this setup page');
      expect(page).toContain('href="/"');
    }
    expect(existsSync(envPath)).toBe(false);
    expect(ghe.calls).toEqual([]);
    // A state is good once: a callback with no code uses it up, and it cannot be used again.
    const noCode = await fetch(`${base}/setup/callback?state=${issued}`);
    expect(noCode.status).toBe(400);
    expect(await noCode.text()).toContain('GitHub sent no code');
    const replay = await fetch(`${base}/setup/callback?code=abc&state=${issued}`);
    expect(replay.status).toBe(400);
    expect(await replay.text()).toContain('was not started from this setup page');
    expect(existsSync(envPath)).toBe(false);
    expect(ghe.calls).toEqual([]);
  });

  it('a state older than an hour is refused', async () => {
    const ghe = await gheStandIn(() => ({ status: 201, body: CONVERSION }));
    let now = Date.parse('2026-11-27T10:00:00Z');
    const dir = tempDir();
    service = await startService(
      readEnv({ LEDGER_PATH: join(dir, 'ledger.db'), PORT: '0', GHE_HOST: ghe.host, GHE_PROTOCOL: 'http' }),
      captureLogs().logger,
      { setup: { envPath: join(dir, '.env'), now: () => now } },
    );
    const base = `http://127.0.0.1:${service.port}`;
    const state = (await setupForm(base)).action!.searchParams.get('state')!;
    now += 60 * 60_000 + 1;
    const res = await fetch(`${base}/setup/callback?code=abc&state=${state}`);
    expect(res.status).toBe(400);
    expect(existsSync(join(dir, '.env'))).toBe(false);
    expect(ghe.calls).toEqual([]);
  });

  it.each([
    [404, { message: 'Not Found' }, 'GitHub does not know this code'],
    [422, { message: 'Validation Failed: code has expired' }, 'Validation Failed: code has expired'],
    [500, { message: 'boom' }, 'GitHub answered HTTP 500'],
    [201, { ...CONVERSION, pem: 'not a key' }, 'GitHub&#39;s answer is not what the documentation describes'],
  ])('a conversion answered %i shows a clear error and writes nothing', async (status, body, shown) => {
    const ghe = await gheStandIn(() => ({ status, body }));
    const { base, envPath, logs } = await startSetupService(
      { GHE_HOST: ghe.host, GHE_PROTOCOL: 'http' },
      'LOG_LEVEL=debug\n',
    );
    const state = (await setupForm(base)).action!.searchParams.get('state')!;
    const res = await fetch(`${base}/setup/callback?code=abc123&state=${state}`);
    expect(res.status).toBe(status >= 500 ? 502 : status === 201 ? 502 : 400);
    const page = await res.text();
    expect(page).toContain(shown);
    expect(page).toContain('href="/"');
    expect(page).not.toMatch(/\n\s+at /);
    expect(readFileSync(envPath, 'utf8')).toBe('LOG_LEVEL=debug\n');
    expect(statSync(envPath).mode & 0o777).toBe(0o644);
    for (const secret of SECRETS) expect(logs.text()).not.toContain(secret);
    // GitHub failing is worth a reload with the same code; a code it refused, or an answer it
    // gave, is not: the state is used up.
    const again = await fetch(`${base}/setup/callback?code=abc123&state=${state}`);
    expect(ghe.calls).toHaveLength(status >= 500 ? 2 : 1);
    if (status < 500) expect(await again.text()).toContain('was not started from this setup page');
  });

  it('against github.com the code goes to api.github.com', async () => {
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
    const scope = nock('https://api.github.com')
      .post('/app-manifests/xyz789/conversions')
      .reply(201, CONVERSION);
    const { base, envPath } = await startSetupService();
    const state = (await setupForm(base)).action!.searchParams.get('state')!;
    const res = await fetch(`${base}/setup/callback?code=xyz789&state=${state}`);
    expect(res.status).toBe(200);
    expect(scope.isDone()).toBe(true);
    expect(parseEnv(readFileSync(envPath, 'utf8')).APP_ID).toBe('4242');
  });

  it('health, readiness and the agent API keep working while the setup page is served', async () => {
    const { base } = await startSetupService();
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    const api = await fetch(`${base}/api/v1/preflight`, { method: 'POST', body: '{}' });
    expect(api.status).toBe(401);
    expect((await fetch(`${base}/nope`)).status).toBe(404);
  });
});

it.each([
  ['the GitHub App is configured', { APP_ID: '1', PRIVATE_KEY: PEM, WEBHOOK_SECRET: 'secret' }, 404],
  // Its client id is an App's: `/` stays the web pages' home (sign-in first).
  ['sign-in is configured', { GITHUB_CLIENT_ID: 'Iv1.abc', GITHUB_CLIENT_SECRET: 'x'.repeat(40) }, 302],
] as const)('the setup page is not served when %s', async (_, configured, status) => {
  const dir = tempDir();
  service = await startService(
    readEnv({ LEDGER_PATH: join(dir, 'ledger.db'), PORT: '0', ...configured }),
    captureLogs().logger,
    { setup: { envPath: join(dir, '.env') } },
  );
  const base = `http://127.0.0.1:${service.port}`;
  const home = await fetch(`${base}/`, { redirect: 'manual' });
  expect(home.status).toBe(status);
  expect(await home.text()).not.toContain('settings/apps/new');
  const callback = await fetch(`${base}/setup/callback?code=abc&state=${'f'.repeat(32)}`, {
    redirect: 'manual',
  });
  expect([404, 302]).toContain(callback.status);
  expect(existsSync(join(dir, '.env'))).toBe(false);
});

it('after the restart, `agov serve` reads the .env the setup page wrote and runs the App', async () => {
  const ghe = await gheStandIn(() => ({ status: 201, body: CONVERSION }));
  const { base, dir } = await startSetupService({ GHE_HOST: ghe.host, GHE_PROTOCOL: 'http' });
  const state = (await setupForm(base)).action!.searchParams.get('state')!;
  expect((await fetch(`${base}/setup/callback?code=c0de&state=${state}`)).status).toBe(200);
  await service?.stop();
  service = null;

  const child: ChildProcess = spawn(process.execPath, [AGOV, 'serve'], {
    cwd: dir,
    env: {
      PATH: process.env.PATH,
      LEDGER_PATH: join(dir, 'data', 'ledger.db'),
      PORT: '0',
      HOST: '127.0.0.1',
      GHE_HOST: ghe.host,
      GHE_PROTOCOL: 'http',
      LOG_LEVEL: 'info',
    },
  });
  closers.push(() => {
    child.kill('SIGTERM');
  });
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  const port = await new Promise<string>((resolvePort, reject) => {
    child.stdout?.on('data', () => {
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m) resolvePort(m[1]!);
    });
    child.once('exit', () => reject(new Error(`serve exited: ${out}`)));
  });
  const restarted = `http://127.0.0.1:${port}`;
  const ready = (await (await fetch(`${restarted}/readyz`)).json()) as {
    dependencies: { github: { state: string } };
  };
  expect(ready.dependencies.github.state).not.toBe('off');
  // `/` is no longer the setup page: the client id written too turns on the web pages' sign-in.
  const home = await fetch(`${restarted}/`, { redirect: 'manual' });
  expect(home.status).toBe(302);
  expect(home.headers.get('location')).toMatch(/^\/auth\/signin/);
  expect(out).toContain('GitHub App: app 4242');
  for (const secret of SECRETS) expect(out).not.toContain(secret);
});
