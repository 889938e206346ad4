/**
 * Misbehaving agents against the real agent API over HTTP (issue 12): each test is an attack that
 * worked on an earlier build, and what a caller must see now.
 */

import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sqliteOf } from '../../src/app/open-runtime.js';
import type { RunningService } from '../../src/app/service.js';
import { dbOf } from '../../src/ledger/ledger.js';
import { PrivateRedis } from '../helpers/redis-server.js';
import { startAgentApiService } from './agent-api-service.js';

let redis: PrivateRedis;
let service: RunningService | null = null;
let redisKilled = false;
beforeAll(async () => {
  redis = await PrivateRedis.start();
});
afterAll(async () => {
  await redis?.stop();
});
afterEach(async () => {
  await service?.stop();
  service = null;
  if (redisKilled) await redis.restart();
  redisKilled = false;
});

type Store = 'memory' | 'redis';
const CONFIG = 'agent_api: { lock_scope: repo, heartbeat_ttl_seconds: 600 }\n';

async function start(store: Store, config = CONFIG, env: Record<string, string> = {}) {
  const api = await startAgentApiService({
    config,
    ...(store === 'redis' ? { redisUrl: redis.url } : {}),
    env: { HEALTH_PROBE_INTERVAL_MS: '3600000', CHECKPOINT_INTERVAL_MINUTES: '0', ...env },
  });
  service = api.service;
  return api;
}

/** `{"a":{"a":…}}`, `depth` levels deep, as raw JSON text (JSON.stringify itself would overflow). */
const nested = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

describe('one agent’s bad entry', () => {
  it('is refused alone with 400, and another agent’s concurrent writes all succeed', async () => {
    const { register, call } = await start('memory');
    const alpha = await register('alpha');
    const beta = await register('beta');
    // 12,000 levels (72 KB): far past the depth limit, within the body cap (64 KB + 16 KB).
    const deep = `{"event":"plan_created","data":${nested(12_000)}}`;
    const results = await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        i % 30 === 0
          ? call(beta.token, 'POST', '/events', undefined, deep).then((r) => ({ who: 'beta', ...r }))
          : call(alpha.token, 'POST', '/events', { event: 'plan_created', data: { i } }).then((r) => ({
              who: 'alpha',
              ...r,
            })),
      ),
    );
    const alphas = results.filter((r) => r.who === 'alpha');
    expect(alphas.filter((r) => r.status !== 200)).toEqual([]);
    const betas = results.filter((r) => r.who === 'beta');
    expect(betas.map((r) => r.status)).toEqual(Array(10).fill(400));
    expect(betas[0]!.body).toEqual({
      error: 'bad_request',
      message: 'the body is nested more than 32 levels deep',
    });
    const recorded = dbOf(sqliteOf(service!.runtime))
      .prepare(
        "SELECT agent_id, COUNT(*) AS n FROM ledger_entries WHERE type = 'integration.event' GROUP BY agent_id",
      )
      .all();
    expect(recorded).toEqual([{ agent_id: 'alpha', n: 290 }]);
  });

  it('refuses event data past 64 KB and a checkpoint nested too deep', async () => {
    const { register, call } = await start('memory');
    const beta = await register('beta');
    const big = await call(beta.token, 'POST', '/events', {
      event: 'plan_created',
      data: { blob: 'x'.repeat(70 * 1024) },
    });
    expect(big).toEqual({
      status: 413,
      body: { error: 'too_large', message: `event data is ${70 * 1024 + 11} bytes; the limit is 65536` },
    });
    const deep = await call(beta.token, 'PUT', '/checkpoints', undefined, `{"state":${nested(5000)}}`);
    expect(deep).toEqual({
      status: 400,
      body: { error: 'bad_request', message: 'the body is nested more than 32 levels deep' },
    });
  });
});

describe('notifications of agent events', () => {
  beforeAll(() => {
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
  });
  afterAll(() => {
    nock.cleanAll();
    nock.enableNetConnect();
  });

  it('name the authenticated agent, whatever the event data says', async () => {
    const { register } = await start(
      'memory',
      `${CONFIG}slack:\n  notify: { plan_created: C0AGENTS, execution_complete: C0AGENTS }\n`,
      { SLACK_SIGNING_SECRET: 'slack-signing-secret', SLACK_BOT_TOKEN: 'xoxb-test-token' },
    );
    const posted: string[] = [];
    nock('https://slack.com')
      .persist()
      .post('/api/chat.postMessage')
      .reply(200, (_uri, raw: any) => {
        const body = typeof raw === 'string' ? Object.fromEntries(new URLSearchParams(raw)) : raw;
        posted.push(body.text);
        return { ok: true, channel: body.channel, ts: '1700000000.000100' };
      });
    await register('alpha');
    const beta = await register('beta');
    await beta.client.event('plan_created', {
      agentId: 'alpha <!channel> <https://evil.example/login|sign in again>',
      repository: 'acme/web',
    });
    await beta.client.event('execution_complete', { agentId: 'alpha' });
    await expect
      .poll(
        async () => {
          await service!.slack!.pump.runNow();
          return posted.length;
        },
        { timeout: 5000, interval: 50 },
      )
      .toBe(2);
    expect(posted).toEqual(['`beta`: plan created', '`beta`: execution complete']);
    // The ledger keeps what the agent sent, under the agent the token names.
    const row = dbOf(sqliteOf(service!.runtime))
      .prepare(
        "SELECT agent_id, payload FROM ledger_entries WHERE type = 'integration.event' ORDER BY seq LIMIT 1",
      )
      .get() as { agent_id: string; payload: string };
    expect(row.agent_id).toBe('beta');
  });
});

describe('errors say what to do', () => {
  it('answers 400 to a body whose agent is not a string', async () => {
    const { register, call } = await start('memory');
    const beta = await register('beta');
    for (const agent of [{ toString: 1 }, { toString: null, valueOf: 1 }, ['beta'], 7]) {
      const answer = await call(beta.token, 'POST', '/preflight', {
        agent,
        action: 'read',
        repository: 'acme/web',
      });
      expect(answer, JSON.stringify(agent)).toEqual({
        status: 400,
        body: { error: 'bad_request', message: expect.stringMatching(/^agent: /) },
      });
    }
    const long = await call(beta.token, 'POST', '/preflight', {
      agent: 'x'.repeat(100_000),
      action: 'read',
      repository: 'acme/web',
    });
    expect(long.status).toBe(403);
    expect(JSON.stringify(long.body).length).toBeLessThan(300);
  });
});

describe('failures inside stay inside', () => {
  it('hides SQLite, Redis and connection errors behind a stable code and a sentence', async () => {
    const { register, call } = await start('redis');
    const beta = await register('beta');
    const leaks = /sqlite|readonly|redis|script|[0-9a-f]{40}|ECONNREFUSED|127\.0\.0\.1|:\d{4,5}\b|ERR /i;

    // A Redis key holding what no script expects: the script fails inside Redis.
    const { Redis } = await import('ioredis');
    const raw = new Redis(redis.url);
    await raw.set('fence:exec:repo:acme/web', 'not a number');
    await raw.set('lock:exec:repo:acme/web:fence', 'not a number');
    raw.disconnect();
    const scripted = await call(beta.token, 'POST', '/locks', { repository: 'acme/web', ttlSeconds: 60 });
    const collided = await call(beta.token, 'POST', '/locks', {
      repository: 'acme/web:fence',
      ttlSeconds: 60,
    });
    expect(scripted.status).toBe(503);
    expect(scripted.body).toEqual({
      error: 'unavailable',
      message: 'the service cannot do this now (a dependency failed); try again shortly',
    });
    expect(collided.status).not.toBe(200);
    expect(JSON.stringify(collided.body)).not.toMatch(leaks);

    // The ledger refuses writes.
    dbOf(sqliteOf(service!.runtime)).pragma('query_only = ON');
    const unwritable = await call(beta.token, 'POST', '/events', { event: 'plan_created', data: {} });
    dbOf(sqliteOf(service!.runtime)).pragma('query_only = OFF');
    expect(unwritable.status).toBe(503);
    expect(JSON.stringify(unwritable.body)).not.toMatch(leaks);

    // Redis is gone.
    redisKilled = true;
    await redis.kill();
    const refused = await call(beta.token, 'POST', '/heartbeats', {});
    expect(refused.status).toBe(503);
    expect(JSON.stringify(refused.body)).not.toMatch(leaks);
    const denied = await call(beta.token, 'POST', '/preflight', { action: 'read', repository: 'acme/web' });
    expect(denied.status).toBe(503);
    expect(denied.body.reasons).toEqual(['state_store: state store unavailable; try again shortly']);
    expect(JSON.stringify(denied.body)).not.toMatch(leaks);
  });
});
