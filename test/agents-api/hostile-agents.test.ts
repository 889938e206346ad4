/**
 * Misbehaving agents against the real agent API over HTTP (issue 12): each test is an attack that
 * worked on an earlier build, and what a caller must see now.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type RunningService, startService } from '../../src/app/service.js';
import { AgentClient } from '../../src/client/index.js';
import { readEnv } from '../../src/config/read-env.js';
import { dbOf } from '../../src/ledger/ledger.js';
import { createLogger } from '../../src/platform/logger.js';
import { tempDir } from '../helpers/agov.js';
import { PrivateRedis } from '../helpers/redis-server.js';

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
  const dir = tempDir();
  const configPath = join(dir, 'agent-governance.yml');
  writeFileSync(configPath, config);
  if (store === 'redis') {
    const { Redis } = await import('ioredis');
    const flush = new Redis(redis.url);
    await flush.flushall();
    flush.disconnect();
  }
  service = await startService(
    readEnv({
      LEDGER_PATH: join(dir, 'dbOf(ledger)'),
      ...(store === 'redis' ? { REDIS_URL: redis.url } : {}),
      GOVERNANCE_CONFIG: configPath,
      PORT: '0',
      HOST: '127.0.0.1',
      HEALTH_PROBE_INTERVAL_MS: '3600000',
      CHECKPOINT_INTERVAL_MINUTES: '0',
      ...env,
    }),
    createLogger('silent'),
  );
  const base = `http://127.0.0.1:${service.port}`;
  const register = async (id: string) => {
    const { token } = await service!.runtime.governance.registerAgent(
      { id, tier: 'T2', owner: 'olivia' },
      'admin',
    );
    return { client: new AgentClient({ baseUrl: base, token }), token };
  };
  /** A raw call, as a hostile client would make it. */
  const call = async (token: string, method: string, path: string, body?: unknown, raw?: string) => {
    const res = await fetch(`${base}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(raw !== undefined || body !== undefined ? { body: raw ?? JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: (await res.json()) as any };
  };
  return { base, register, call };
}

const lockEntries = () =>
  (
    dbOf(service!.runtime.ledger)
      .prepare("SELECT agent_id, payload FROM ledger_entries WHERE type = 'execution.lock' ORDER BY seq")
      .all() as { agent_id: string; payload: string }[]
  ).map((r) => ({ agent: r.agent_id, ...JSON.parse(r.payload) }));

describe.each(['memory', 'redis'] as const)('locks belong to their holder (%s store)', (store) => {
  it('refuses release and extend of another agent’s grant, even with its exact fencing token, and records extensions', async () => {
    const { register, call } = await start(store);
    const alpha = await register('alpha');
    const beta = await register('beta');
    // Alpha's grant runs out without a release; beta takes the lock with the next token.
    const first = await alpha.client.acquireLock(1, 'acme/web');
    await expect
      .poll(() => service!.runtime.state.getLock('exec:repo:acme/web'), { timeout: 5000, interval: 50 })
      .toBeNull();
    const taken = await beta.client.acquireLock(60, 'acme/web');
    expect(taken.fencingToken).toBe(first.fencingToken + 1);

    // Alpha sends beta's token: a token alone never authorises.
    for (const [path, body] of [
      ['/locks/release', { fencingToken: taken.fencingToken }],
      ['/locks/extend', { fencingToken: taken.fencingToken, ttlSeconds: 600 }],
    ] as const) {
      const refused = await call(alpha.token, 'POST', path, body);
      expect(refused).toEqual({
        status: 409,
        body: {
          error: 'stale_lock',
          message: `alpha holds no lock exec:repo:acme/web with fencing token ${taken.fencingToken}; acquire the lock again`,
        },
      });
    }
    expect(await service!.runtime.state.getLock('exec:repo:acme/web')).toMatchObject({
      token: taken.fencingToken,
      holder: expect.stringMatching(/^beta:/),
    });
    expect(lockEntries().filter((e) => e.op === 'released')).toEqual([]);

    // The holder extends (recorded) and releases.
    await beta.client.extendLock(taken, 120);
    await beta.client.releaseLock(taken);
    expect(lockEntries().map((e) => [e.agent, e.op, e.token])).toEqual([
      ['alpha', 'acquired', first.fencingToken],
      ['beta', 'acquired', taken.fencingToken],
      ['alpha', 'refused', taken.fencingToken],
      ['alpha', 'refused', taken.fencingToken],
      ['beta', 'extended', taken.fencingToken],
      ['beta', 'released', taken.fencingToken],
    ]);
    expect(lockEntries().find((e) => e.op === 'extended')).toMatchObject({
      lockKey: 'exec:repo:acme/web',
      detail: 'for 120 s',
    });
  });
});

describe.each(['memory', 'redis'] as const)('lock names (%s store)', (store) => {
  it('compares repositories case-insensitively and refuses names that are not owner/repo', async () => {
    const { register, call } = await start(store);
    const alpha = await register('alpha');
    const beta = await register('beta');
    const held = await alpha.client.acquireLock(60, 'acme/web');
    expect(held.lockKey).toBe('exec:repo:acme/web');

    await expect(beta.client.acquireLock(60, 'ACME/Web')).rejects.toMatchObject({
      status: 409,
      code: 'lock_held',
    });
    const preflight = await beta.client.preflight({
      action: 'push',
      repository: 'ACME/Web',
      paths: ['a.ts'],
    });
    expect(preflight.decision).toBe('deny');
    expect(preflight.reasons).toEqual(['lock: the execution lock for ACME/Web is held by alpha']);

    for (const repository of ['acme/web:fence', 'ac_me/web', 'acme/web/x', 'acme/..', '-acme/web']) {
      const refused = await call(beta.token, 'POST', '/locks', { repository, ttlSeconds: 60 });
      expect(refused.status, repository).toBe(400);
      expect(refused.body).toEqual({
        error: 'bad_request',
        message: expect.stringMatching(/^repository: /),
      });
    }
    const bad = await call(beta.token, 'POST', '/preflight', {
      action: 'push',
      repository: 'acme/web:fence',
    });
    expect(bad.status).toBe(400);

    // acme/web keeps working: release, take again with the next token.
    await alpha.client.releaseLock(held);
    const again = await beta.client.acquireLock(60, 'Acme/WEB');
    expect(again).toMatchObject({ lockKey: 'exec:repo:acme/web', fencingToken: held.fencingToken + 1 });
  });
});

describe('a revoked agent', () => {
  it('is refused everywhere with its token, and preflight answers deny', async () => {
    const { register, call } = await start('memory');
    const rogue = await register('rogue');
    const lock = await rogue.client.acquireLock(600, 'acme/web');
    await rogue.client.saveCheckpoint({ step: 1 });
    await service!.runtime.governance.record([
      {
        type: 'agent.status_changed',
        agentId: 'rogue',
        actor: 'carol',
        payload: { from: 'active', to: 'revoked', reason: 'leaked a key' },
      },
    ]);
    // The rest of the kill switch follows from the ledger; then only the refusals are added.
    await service!.followLedger();
    const before = service!.runtime.ledger.head().seq;
    const attempts: Array<[string, string, unknown?]> = [
      ['POST', '/events', { event: 'plan_created', data: { steps: 1 } }],
      ['PUT', '/checkpoints', { state: { step: 2 } }],
      ['GET', '/checkpoints'],
      ['POST', '/heartbeats', {}],
      ['POST', '/locks/extend', { fencingToken: lock.fencingToken, ttlSeconds: 60 }],
      ['POST', '/locks/release', { fencingToken: lock.fencingToken }],
      ['POST', '/locks', { repository: 'acme/api', ttlSeconds: 60 }],
      ['POST', '/vault/token', {}],
    ];
    for (const [method, path, body] of attempts) {
      expect(await call(rogue.token, method, path, body), `${method} ${path}`).toEqual({
        status: 403,
        body: { error: 'agent_not_active', message: 'agent rogue is revoked: leaked a key' },
      });
    }
    const preflight = await rogue.client.preflight({ action: 'read', repository: 'acme/web' });
    expect(preflight.decision).toBe('deny');
    expect(preflight.reasons[0]).toMatch(/^revocation: revoked at .* by carol: leaked a key$/);

    const after = service!.runtime.ledger.entriesAfter(before);
    expect(after.map((e) => e.type)).toEqual([...attempts.map(() => 'api.refused'), 'preflight.decided']);
    expect(after.slice(0, attempts.length).map((e) => (e.payload as { path: string }).path)).toEqual(
      attempts.map(([, path]) => `/api/v1${path}`),
    );
  });
});

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
    const recorded = dbOf(service!.runtime.ledger)
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
    const row = dbOf(service!.runtime.ledger)
      .prepare(
        "SELECT agent_id, payload FROM ledger_entries WHERE type = 'integration.event' ORDER BY seq LIMIT 1",
      )
      .get() as { agent_id: string; payload: string };
    expect(row.agent_id).toBe('beta');
  });
});

describe('errors say what to do, not what is inside', () => {
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
    dbOf(service!.runtime.ledger).pragma('query_only = ON');
    const unwritable = await call(beta.token, 'POST', '/events', { event: 'plan_created', data: {} });
    dbOf(service!.runtime.ledger).pragma('query_only = OFF');
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
