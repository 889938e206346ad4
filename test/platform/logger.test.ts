import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest';
import { type RunningService, startService } from '../../src/app/service.js';
import { readEnv } from '../../src/config/read-env.js';
import { createLogger } from '../../src/platform/logger.js';
import { tempDir } from '../helpers/agov.js';
import { API, agentPullRequest, postWebhook } from '../helpers/github.js';
import { buttonBody, commandBody, postSlack, slackHeaders } from '../helpers/slack.js';

// Every secret the service is given, each one distinctive so a grep of the log cannot miss it.
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const PRIVATE_KEY = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
const SECRETS = {
  VAULT_TOKEN: 'hvs.CAESIvaulttokenthatmustneverbelogged',
  VAULT_SECRET_ID: '7f3c1e9a-secret-id-that-must-never-be-logged',
  SLACK_BOT_TOKEN: 'xoxb-1111-2222-botTokenThatMustNeverBeLogged',
  SLACK_SIGNING_SECRET: 'slack-signing-secret-that-must-never-be-logged',
  WEBHOOK_SECRET: 'webhook-secret-that-must-never-be-logged',
  INSTALLATION_TOKEN: 'ghs_installationTokenThatMustNeverBeLogged',
  // A line from the middle of the PEM: any part of the key in the log is a leak.
  PRIVATE_KEY: PRIVATE_KEY.split('\n')[5]!,
};

const ORG = `
agents:
  - { id: builder-bot, tier: T2, owner: olivia, github_logins: ["builder-bot[bot]"] }
approvers:
  - { github: alice, slack: UALICE }
  - { github: olivia, slack: UOLIVIA }
slack:
  approvals_channel: C0APPROVALS
  admins: [UADMIN]
  notify: { agent_revoked: C0ALERTS }
`;

let service: RunningService | null = null;
const servers: Server[] = [];
beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});
afterAll(() => nock.enableNetConnect());
afterEach(async () => {
  await service?.stop();
  service = null;
  nock.cleanAll();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** A loopback server that answers every request with 500, or a port where nothing listens. */
async function failingServer(kind: 'unreachable' | '500'): Promise<string> {
  const server = createServer((_req, res) => {
    res.writeHead(500, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ errors: ['internal error'], ok: false, error: 'internal_error' }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  if (kind === 'unreachable') await new Promise((r) => server.close(r));
  else servers.push(server);
  return url;
}

it.each([
  ['unreachable', 'token'],
  ['unreachable', 'approle'],
  ['500', 'approle'],
] as const)(
  'no secret reaches the log when every integration fails (%s, Vault %s auth)',
  async (failure, vaultAuth) => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const dir = tempDir();
    writeFileSync(join(dir, 'org.yml'), ORG);
    const vault = await failingServer(failure);
    const slackApi = await failingServer(failure);
    // GitHub hands out an installation token, then fails every call made with it.
    nock(API)
      .persist()
      .post('/app/installations/1/access_tokens')
      .reply(201, { token: SECRETS.INSTALLATION_TOKEN, expires_at: '2099-01-01T00:00:00Z' })
      .get(/.*/)
      .reply(500, { message: 'Server Error' })
      .post(/\/repos\/.*/)
      .reply(500, { message: 'Server Error' })
      .patch(/.*/)
      .reply(500, { message: 'Server Error' });

    service = await startService(
      readEnv({
        LEDGER_PATH: join(dir, 'ledger.db'),
        GOVERNANCE_CONFIG: join(dir, 'org.yml'),
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'trace',
        APP_ID: '123',
        PRIVATE_KEY,
        WEBHOOK_SECRET: SECRETS.WEBHOOK_SECRET,
        SLACK_SIGNING_SECRET: SECRETS.SLACK_SIGNING_SECRET,
        SLACK_BOT_TOKEN: SECRETS.SLACK_BOT_TOKEN,
        SLACK_API_URL: `${slackApi}/api/`,
        VAULT_ADDR: vault,
        ...(vaultAuth === 'token'
          ? { VAULT_TOKEN: SECRETS.VAULT_TOKEN }
          : { VAULT_ROLE_ID: 'role-id-of-the-service', VAULT_SECRET_ID: SECRETS.VAULT_SECRET_ID }),
        HEALTH_PROBE_INTERVAL_MS: '600000',
        CHECKPOINT_INTERVAL_MINUTES: '0',
      }),
      createLogger('trace', sink),
      {
        github: { reconcileIntervalMs: 3_600_000, retry: { initialMs: 20, maxMs: 100 } },
        vaultRetry: { initialMs: 20, maxMs: 100 },
        slackRetry: { initialMs: 20, maxMs: 100 },
      },
    );
    const { token: agentToken } = await service.runtime.governance.registerAgent(
      { id: 'deploy-bot', tier: 'T1', owner: 'olivia' },
      'admin',
    );
    const base = `http://127.0.0.1:${service.port}`;
    const log = () => lines.join('');

    // Vault: an agent asks for its token (the reported leak), and the health probe.
    const vaultToken = await fetch(`${base}/api/v1/vault/token`, {
      method: 'POST',
      headers: { authorization: `Bearer ${agentToken}` },
    });
    expect(vaultToken.status).toBeGreaterThanOrEqual(500);
    await service.maintenance();
    // The agent API with its token in the header (at trace level too).
    await fetch(`${base}/api/v1/preflight`, {
      method: 'POST',
      headers: { authorization: `Bearer ${agentToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ action: 'read', repository: 'acme/web' }),
    });
    // GitHub: a signed delivery whose processing calls GitHub, which fails.
    await postWebhook(
      service.port,
      'pull_request',
      agentPullRequest('opened', { login: 'builder-bot[bot]' }),
      {
        signature: undefined,
      },
    ).catch(() => undefined);
    // A delivery signed with the configured secret, sent by hand so the helper's secret is not used.
    const { sign } = await import('@octokit/webhooks-methods');
    const body = JSON.stringify(agentPullRequest('opened', { login: 'builder-bot[bot]' }));
    await fetch(`${base}/api/github/webhooks`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-github-event': 'pull_request',
        'x-github-delivery': crypto.randomUUID(),
        'x-hub-signature-256': await sign(SECRETS.WEBHOOK_SECRET, body),
      },
      body,
    });
    // Slack: a click whose listener calls Slack (views.open), which fails; a command that revokes
    // (Vault revocation and a Slack alert, both failing).
    const click = buttonBody('approval_reject', 'acme/web#1@abc', 'UALICE');
    await postSlack(service.port, click, slackHeaders(click, undefined, SECRETS.SLACK_SIGNING_SECRET));
    const revoke = commandBody('revoke deploy-bot leaked a key', 'UADMIN');
    await postSlack(service.port, revoke, slackHeaders(revoke, undefined, SECRETS.SLACK_SIGNING_SECRET));

    await vi.waitFor(
      () => {
        expect(log()).toContain('GitHub unavailable');
        expect(log()).toContain('could not open the reject modal');
      },
      { timeout: 15_000, interval: 50 },
    );
    await service.vault?.deliverer.pump.runNow();
    await service.slack?.pump.runNow();
    await service.maintenance();
    await service.stop();
    service = null;

    const text = log();
    expect(text.length).toBeGreaterThan(1000);
    const leaked = Object.entries({ ...SECRETS, AGENT_TOKEN: agentToken })
      .filter(([, secret]) => text.includes(secret))
      .map(([name, secret]) => {
        const line = lines.find((l) => l.includes(secret))!;
        return `${name} in: ${line.slice(0, 300)}`;
      });
    expect(leaked).toEqual([]);
  },
  40_000,
);

/** A logger at `level` and the lines it writes. */
function capturing(level: string) {
  const lines: string[] = [];
  const logger = createLogger(
    level,
    new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    }),
  );
  return { logger, lines };
}

it('redacts credential fields by name, errors by allowlist, and recognisable credentials anywhere in a line', () => {
  const { logger, lines } = capturing('trace');
  const axiosLike = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8200'), {
    code: 'ECONNREFUSED',
    config: {
      headers: { 'X-Vault-Token': SECRETS.VAULT_TOKEN },
      data: `{"secret_id":"${SECRETS.VAULT_SECRET_ID}"}`,
    },
    response: {
      status: 500,
      data: { errors: ['internal error'] },
      config: { headers: { a: SECRETS.VAULT_TOKEN } },
    },
  });
  logger.error({ err: new Error('wrapped', { cause: axiosLike }) }, 'Vault call failed');
  logger.info(
    { req: { headers: { authorization: 'opaque-credential', 'x-slack-signature': 'v0=abc' } } },
    'in',
  );
  logger.info({ options: { json: { secret_id: SECRETS.VAULT_SECRET_ID } }, signingSecret: 'opaque' }, 'cfg');
  // Deeper than pino's paths reach, and an error under a key no serializer is registered for.
  logger.info({ a: { b: { c: { d: { client_secret: 'opaque-deep' } } } }, failure: axiosLike }, 'deep');
  logger.warn(`a key turned up: ${PRIVATE_KEY}`);
  logger.warn('agent presented agov_deploy-bot_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG');
  const text = lines.join('');
  for (const secret of [
    SECRETS.VAULT_TOKEN,
    SECRETS.VAULT_SECRET_ID,
    SECRETS.PRIVATE_KEY,
    'opaque',
    'v0=abc',
  ])
    expect(text).not.toContain(secret);
  expect(text).not.toContain('0123456789abcdefghijklmnopqrstuvwxyzABCDEFG');
  // What happened stays readable.
  expect(JSON.parse(lines[0]!).err).toMatchObject({
    message: 'wrapped',
    cause: { code: 'ECONNREFUSED', response: { status: 500, body: { errors: ['internal error'] } } },
  });
});

it('redacts a password in a connection URL, a PEM key cut short, and a JWT, wherever a line holds them', () => {
  const { logger, lines } = capturing('info');
  const pem = PRIVATE_KEY.split('\n').slice(0, 8).join('\n'); // no END line
  const jwt =
    'eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOjEyMywiaWF0IjoxNzAwMDAwMDAwfQ.c2lnbmF0dXJlc2lnbmF0dXJl';
  logger.error(
    { err: new Error('connect ECONNREFUSED redis://default:S3cretPassw0rd!@10.0.0.5:6379/0') },
    'a',
  );
  logger.warn('postgres://gov:hunter2hunter2@db.internal:5432/ledger is down');
  logger.warn(`a key cut short: ${pem}`);
  logger.warn(`app token ${jwt}`);
  const text = lines.join('');
  for (const secret of ['S3cretPassw0rd!', 'hunter2hunter2', PRIVATE_KEY.split('\n')[5]!, jwt.split('.')[1]!])
    expect(text).not.toContain(secret);
  // Where it went stays readable.
  expect(text).toContain('redis://default:[REDACTED]@10.0.0.5:6379/0');
  expect(text).toContain('postgres://gov:[REDACTED]@db.internal:5432/ledger');
});
