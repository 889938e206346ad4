/**
 * Misbehaving agents against the real agent API over HTTP (issue 12): each test is an attack that
 * worked on an earlier build, and what a caller must see now.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AgentClient } from '../../src/client/index.js';
import { readEnv } from '../../src/config/read-env.js';
import { createLogger } from '../../src/logger.js';
import { type RunningService, startService } from '../../src/service.js';
import { tempDir } from '../helpers/agov.js';
import { PrivateRedis } from '../helpers/redis-server.js';

let redis: PrivateRedis;
let service: RunningService | null = null;
beforeAll(async () => {
  redis = await PrivateRedis.start();
});
afterAll(async () => {
  await redis?.stop();
});
afterEach(async () => {
  await service?.stop();
  service = null;
  if (!redis['process']) await redis.restart();
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
      LEDGER_PATH: join(dir, 'ledger.db'),
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
    service!.runtime.ledger.db
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
