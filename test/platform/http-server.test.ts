import { connect } from 'node:net';
import { join } from 'node:path';
import { afterEach, expect, it, vi } from 'vitest';
import { type RunningService, startService } from '../../src/app/service.js';
import { readEnv } from '../../src/config/read-env.js';
import { createLogger } from '../../src/platform/logger.js';
import { startAgentApiService } from '../agents-api/agent-api-service.js';
import { tempDir } from '../helpers/agov.js';
import { PRIVATE_KEY, WEBHOOK_SECRET } from '../helpers/github.js';

let service: RunningService | null = null;
afterEach(async () => {
  await service?.stop();
  service = null;
});

async function start(
  env: Record<string, string> = {},
  logger = createLogger('silent'),
): Promise<RunningService> {
  service = await startService(
    readEnv({
      LEDGER_PATH: join(tempDir(), 'ledger.db'),
      PORT: '0',
      HOST: '127.0.0.1',
      HEALTH_PROBE_INTERVAL_MS: '600000',
      CHECKPOINT_INTERVAL_MINUTES: '0',
      ...env,
    }),
    logger,
  );
  return service;
}

it('a client that goes away mid-body is no error of ours: logged without a stack, counted as aborted', async () => {
  const lines: string[] = [];
  const stream = { write: (line: string) => lines.push(line) } as unknown as NodeJS.WritableStream;
  const github = { APP_ID: '123', PRIVATE_KEY, WEBHOOK_SECRET };
  const { port } = await start(github, createLogger('debug', stream));
  for (let i = 0; i < 3; i++) {
    const socket = connect(port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(
      'POST /api/github/webhooks HTTP/1.1\r\nhost: x\r\nx-github-event: pull_request\r\n' +
        'x-github-delivery: d-1\r\nx-hub-signature-256: sha256=00\r\ncontent-length: 1000\r\n\r\n{"a":',
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
    // Reset, as a client killed mid-request leaves it.
    socket.resetAndDestroy();
  }
  const metrics = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  await vi.waitFor(
    async () =>
      expect(await metrics()).toMatch(
        /agov_http_request_duration_seconds_count\{route="\/api\/github\/webhooks",status="aborted"\} 3/,
      ),
    { timeout: 10_000, interval: 50 },
  );
  const logged = lines.map((l) => JSON.parse(l) as { level: number; msg: string; err?: unknown });
  expect(logged.filter((l) => l.level >= 40)).toEqual([]);
  expect(lines.join('')).not.toMatch(/stack|abortIncoming/);
  expect(logged.filter((l) => /went away|closed/.test(l.msg))).toHaveLength(3);
});

it('/metrics stays small: random paths share one route label, `other`', async () => {
  const { port } = await start();
  const base = `http://127.0.0.1:${port}`;
  for (let batch = 0; batch < 20; batch++) {
    await Promise.all(
      Array.from({ length: 100 }, () =>
        fetch(`${base}/${crypto.randomUUID()}/${Math.random()}?q=${Math.random()}`).then((r) => r.text()),
      ),
    );
  }
  await fetch(`${base}/api/v1/${crypto.randomUUID()}`).then((r) => r.text());
  await fetch(`${base}/healthz`).then((r) => r.text());
  const text = await (await fetch(`${base}/metrics`)).text();
  const routes = new Set(
    [...text.matchAll(/agov_http_request_duration_seconds_count\{route="([^"]*)"/g)].map((m) => m[1]),
  );
  expect([...routes].sort()).toEqual(['/api/v1', '/healthz', 'other']);
  expect(text).toMatch(/agov_http_request_duration_seconds_count\{route="other",status="404"\} 2000/);
  expect(text.length).toBeLessThan(20_000);
});

it('an agent that goes away mid-body is no error of ours either: logged without a stack, counted as aborted', async () => {
  const lines: string[] = [];
  const stream = { write: (line: string) => lines.push(line) } as unknown as NodeJS.WritableStream;
  const api = await startAgentApiService({
    config: 'agent_api: { heartbeat_ttl_seconds: 600 }\n',
    env: { HEALTH_PROBE_INTERVAL_MS: '3600000', CHECKPOINT_INTERVAL_MINUTES: '0' },
    logger: createLogger('debug', stream),
  });
  service = api.service;
  const { token } = await api.register('gone-bot');
  const socket = connect(api.service.port, '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(
    `POST /api/v1/events HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${token}\r\n` +
      'content-type: application/json\r\ncontent-length: 1000\r\n\r\n{"type":',
  );
  await new Promise((resolve) => setTimeout(resolve, 20));
  socket.resetAndDestroy();
  const metrics = async () => (await fetch(`${api.base}/metrics`)).text();
  await vi.waitFor(
    async () => expect(await metrics()).toMatch(/route="\/api\/v1[^"]*",status="aborted"\} 1/),
    { timeout: 10_000, interval: 50 },
  );
  const logged = lines.map((l) => JSON.parse(l) as { level: number; msg: string });
  expect(logged.filter((l) => l.level >= 40)).toEqual([]);
  expect(lines.join('')).not.toMatch(/stack|abortIncoming/);
});
