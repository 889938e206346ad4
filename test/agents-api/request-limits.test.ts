/**
 * Bounded everything (issue 12, item 5), against the real agent API over HTTP: request rates per
 * agent and per source address (in the state store, so they hold across replicas), body caps from
 * the organisation config, and unauthenticated floods that no longer write the ledger once a call.
 */

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sqliteOf } from '../../src/app/open-runtime.js';
import { type RunningService, startService } from '../../src/app/service.js';
import { readEnv } from '../../src/config/read-env.js';
import { dbOf } from '../../src/ledger/ledger.js';
import { createLogger } from '../../src/platform/logger.js';
import { tempDir } from '../helpers/agov.js';
import { PrivateRedis } from '../helpers/redis-server.js';

let redis: PrivateRedis;
const services: RunningService[] = [];
beforeAll(async () => {
  redis = await PrivateRedis.start();
});
afterAll(async () => {
  await redis?.stop();
});
afterEach(async () => {
  for (const s of services.splice(0)) await s.stop();
});

async function start(config: string, options: { redis?: boolean; ledgerPath?: string } = {}) {
  const dir = tempDir();
  const configPath = join(dir, 'agent-governance.yml');
  writeFileSync(configPath, config);
  const service = await startService(
    readEnv({
      LEDGER_PATH: options.ledgerPath ?? join(dir, 'dbOf(ledger)'),
      ...(options.redis ? { REDIS_URL: redis.url } : {}),
      GOVERNANCE_CONFIG: configPath,
      PORT: '0',
      HOST: '127.0.0.1',
      HEALTH_PROBE_INTERVAL_MS: '3600000',
      CHECKPOINT_INTERVAL_MINUTES: '0',
    }),
    createLogger('silent'),
  );
  services.push(service);
  const base = `http://127.0.0.1:${service.port}`;
  const call = async (token: string | null, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}/api/v1${path}`, {
      method,
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return {
      status: res.status,
      retryAfter: res.headers.get('retry-after'),
      body: (await res.json()) as any,
    };
  };
  const register = async (id: string) =>
    (await service.runtime.governance.registerAgent({ id, tier: 'T2', owner: 'olivia' }, 'admin')).token;
  return { service, base, call, register };
}

const refusals = (service: RunningService) =>
  dbOf(sqliteOf(service.runtime))
    .prepare(
      "SELECT agent_id, json_extract(payload, '$.status') AS status, json_extract(payload, '$.count') AS count FROM ledger_entries WHERE type = 'api.refused' ORDER BY seq",
    )
    .all();

describe('unauthenticated floods', () => {
  it('are counted in /metrics and written to the ledger once per source per minute with the count, not once per call', async () => {
    const { service, base, call } = await start('agent_api: { unauthenticated_per_minute: 1000 }\n');
    const forged = 'agov_alpha_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
    const answers = await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        call(i % 3 === 0 ? null : forged, 'POST', '/events', { event: 'plan_created' }),
      ),
    );
    expect(new Set(answers.map((a) => a.status))).toEqual(new Set([401]));
    // One entry for this address in this minute: the first refusal, recorded at once; the others
    // are counted and go into the next entry for this address when the minute is over.
    expect(refusals(service)).toEqual([{ agent_id: null, status: 401, count: 1 }]);
    await service.agentApi.refusals.flush(Date.now() + 60_000);
    expect(refusals(service)).toEqual([
      { agent_id: null, status: 401, count: 1 },
      { agent_id: null, status: 401, count: 299 },
    ]);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain('agov_api_refusals_total{code="unauthenticated"} 100');
    expect(metrics).toContain('agov_api_refusals_total{code="bad_token"} 200');
  });

  it('past the per-address limit are answered 429 with Retry-After, and a valid token from the same address still works', async () => {
    const { call, register } = await start('agent_api: { unauthenticated_per_minute: 5 }\n');
    const token = await register('beta');
    const answers: { status: number; retryAfter: string | null }[] = [];
    for (let i = 0; i < 8; i++)
      answers.push(await call('agov_x_AAAAAAAAAAAAAAAAAAAAAAAA', 'POST', '/heartbeats', {}));
    expect(answers.map((a) => a.status)).toEqual([401, 401, 401, 401, 401, 429, 429, 429]);
    expect(Number(answers[7]!.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(answers[7]!.retryAfter)).toBeLessThanOrEqual(60);
    expect((await call(token, 'POST', '/heartbeats', {})).status).toBe(200);
  });
});

describe('request rate per agent', () => {
  it('answers 429 with Retry-After past the limit, and another agent is not slowed', async () => {
    const { service, call, register } = await start('agent_api: { requests_per_minute: 10 }\n');
    const alpha = await register('alpha');
    const beta = await register('beta');
    const statuses: number[] = [];
    for (let i = 0; i < 14; i++)
      statuses.push((await call(alpha, 'POST', '/events', { event: 'plan_created' })).status);
    expect(statuses).toEqual([...Array(10).fill(200), 429, 429, 429, 429]);
    const limited = await call(alpha, 'POST', '/events', { event: 'plan_created' });
    expect(limited.body).toEqual({
      error: 'rate_limited',
      message: expect.stringMatching(/^agent alpha made more than 10 requests in 60 s; retry after \d+ s$/),
    });
    expect(Number(limited.retryAfter)).toBeGreaterThanOrEqual(1);
    expect((await call(beta, 'POST', '/events', { event: 'plan_created' })).status).toBe(200);
    // The refusals of a flooding agent are aggregated too: one entry, not one per 429.
    expect(refusals(service)).toEqual([{ agent_id: 'alpha', status: 429, count: 1 }]);
  });

  it('holds across two replicas sharing Redis', async () => {
    const ledgerPath = join(tempDir(), 'dbOf(ledger)');
    const config = 'agent_api: { requests_per_minute: 10 }\n';
    const { Redis } = await import('ioredis');
    const flush = new Redis(redis.url);
    await flush.flushall();
    flush.disconnect();
    const a = await start(config, { redis: true, ledgerPath });
    const b = await start(config, { redis: true, ledgerPath });
    const token = await a.register('alpha');
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      const replica = i % 2 === 0 ? a : b;
      statuses.push((await replica.call(token, 'POST', '/heartbeats', {})).status);
    }
    expect(statuses).toEqual([...Array(10).fill(200), 429, 429]);
  });
});

describe('body caps', () => {
  it('event data and session checkpoints are capped at 64 KB by default', async () => {
    const { call, register } = await start('agent_api: {}\n');
    const token = await register('beta');
    const state = { notes: 'x'.repeat(100 * 1024) };
    const saved = await call(token, 'PUT', '/checkpoints', { state });
    expect(saved.status).toBe(413);
    expect(saved.body.error).toBe('checkpoint_too_large');
    const event = await call(token, 'POST', '/events', { event: 'plan_created', data: state });
    expect(event).toMatchObject({ status: 413, body: { error: 'too_large' } });
  });

  it('the event cap comes from agent_api.max_event_data_kb', async () => {
    const { call, register } = await start('agent_api: { max_event_data_kb: 1 }\n');
    const token = await register('beta');
    const event = await call(token, 'POST', '/events', {
      event: 'plan_created',
      data: { x: 'y'.repeat(2000) },
    });
    expect(event).toEqual({
      status: 413,
      retryAfter: null,
      body: { error: 'too_large', message: 'event data is 2008 bytes; the limit is 1024' },
    });
    expect((await call(token, 'POST', '/events', { event: 'plan_created', data: { x: 'y' } })).status).toBe(
      200,
    );
  });

  it('a body far past the cap is refused from its content-length, before it is read', async () => {
    const { base, register } = await start('agent_api: {}\n');
    const token = await register('beta');
    const res = await fetch(`${base}/api/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ event: 'plan_created', data: { x: 'y'.repeat(2 * 1024 * 1024) } }),
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({
      error: 'too_large',
      message:
        'body larger than 81920 bytes; event data is limited to 65536 bytes (agent_api.max_event_data_kb)',
    });
  });
});
