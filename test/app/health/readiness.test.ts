import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { type RunningService, startService } from '../../../src/app/service.js';
import { readEnv } from '../../../src/config/read-env.js';
import { createLogger } from '../../../src/platform/logger.js';
import { tempDir } from '../../helpers/agov.js';
import { fillDisk } from '../../helpers/full-disk.js';
import { PRIVATE_KEY, WEBHOOK_SECRET } from '../../helpers/github.js';
import { SLACK_SECRET } from '../../helpers/slack.js';

let service: RunningService | null = null;
let standIn: Server | null = null;
afterEach(async () => {
  await service?.stop();
  service = null;
  await new Promise((r) => (standIn ? standIn.close(r) : r(undefined)));
  standIn = null;
});

async function readyz(): Promise<{ status: number; body: any }> {
  const res = await fetch(`http://127.0.0.1:${service!.port}/readyz`);
  return { status: res.status, body: await res.json() };
}

/** GitHub (Enterprise Server) and Slack at `port` on loopback: a stand-in, or nothing at all. */
function withIntegrationsAt(port: number, ledgerPath = join(tempDir(), 'ledger.db')) {
  return readEnv({
    LEDGER_PATH: ledgerPath,
    PORT: '0',
    HOST: '127.0.0.1',
    HEALTH_PROBE_INTERVAL_MS: '600000',
    CHECKPOINT_INTERVAL_MINUTES: '0',
    APP_ID: '123',
    PRIVATE_KEY,
    WEBHOOK_SECRET,
    GHE_HOST: `127.0.0.1:${port}`,
    GHE_PROTOCOL: 'http',
    SLACK_SIGNING_SECRET: SLACK_SECRET,
    SLACK_BOT_TOKEN: 'xoxb-test-token',
    SLACK_API_URL: `http://127.0.0.1:${port}/api/`,
  });
}

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

it('a ledger that cannot commit (full disk) is down, and /readyz answers 503', async () => {
  const ledgerPath = join(tempDir(), 'ledger.db');
  service = await startService(
    readEnv({ LEDGER_PATH: ledgerPath, PORT: '0', HOST: '127.0.0.1', HEALTH_PROBE_INTERVAL_MS: '600000' }),
    createLogger('silent'),
  );
  expect(await readyz()).toMatchObject({ status: 200, body: { status: 'ready' } });
  const undo = fillDisk(ledgerPath);
  try {
    const answer = await readyz();
    expect(answer.status).toBe(503);
    expect(answer.body.status).toBe('not_ready');
    expect(answer.body.dependencies.ledger.state).toBe('down');
  } finally {
    undo();
  }
  expect(await readyz()).toMatchObject({
    status: 200,
    body: { status: 'ready', dependencies: { ledger: { state: 'up' } } },
  });
});

it('GitHub and Slack unreachable: /readyz says degraded with both down, before any delivery', async () => {
  service = await startService(withIntegrationsAt(await closedPort()), createLogger('silent'));
  const answer = await readyz();
  expect(answer.status).toBe(200);
  expect(answer.body).toMatchObject({
    status: 'degraded',
    dependencies: {
      ledger: { state: 'up' },
      github: { state: 'down' },
      slack: { state: 'down' },
    },
  });
  // What a caller of an unauthenticated endpoint learns: that it is down, not where it lives.
  expect(JSON.stringify(answer.body)).not.toContain('127.0.0.1');
});

it('GitHub and Slack are asked with an authenticated call, at most once a minute', async () => {
  const calls: string[] = [];
  standIn = createServer((req, res) => {
    calls.push(`${req.method} ${req.url} ${req.headers.authorization?.split(' ')[0] ?? 'none'}`);
    res.setHeader('content-type', 'application/json');
    if (req.url === '/api/v3/app') return res.end(JSON.stringify({ id: 123, slug: 'agent-governance' }));
    if (req.url === '/api/auth.test') return res.end(JSON.stringify({ ok: true, team_id: 'T1' }));
    res.statusCode = 404;
    res.end('{}');
  });
  await new Promise<void>((r) => standIn!.listen(0, '127.0.0.1', r));
  service = await startService(
    withIntegrationsAt((standIn.address() as AddressInfo).port),
    createLogger('silent'),
  );
  expect(await readyz()).toMatchObject({
    status: 200,
    body: { status: 'ready', dependencies: { github: { state: 'up' }, slack: { state: 'up' } } },
  });
  await readyz();
  await service.maintenance();
  expect(calls.sort()).toEqual(['GET /api/v3/app bearer', 'POST /api/auth.test Bearer']);
});
