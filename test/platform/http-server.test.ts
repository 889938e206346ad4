import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { type RunningService, startService } from '../../src/app/service.js';
import { readEnv } from '../../src/config/read-env.js';
import { createLogger } from '../../src/platform/logger.js';
import { tempDir } from '../helpers/agov.js';

let service: RunningService | null = null;
afterEach(async () => {
  await service?.stop();
  service = null;
});

async function start(): Promise<RunningService> {
  service = await startService(
    readEnv({
      LEDGER_PATH: join(tempDir(), 'ledger.db'),
      PORT: '0',
      HOST: '127.0.0.1',
      HEALTH_PROBE_INTERVAL_MS: '600000',
      CHECKPOINT_INTERVAL_MINUTES: '0',
    }),
    createLogger('silent'),
  );
  return service;
}

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
