/**
 * Misbehaving agents against the execution locks over HTTP (issue 12): each test is an attack that
 * worked on an earlier build, and what a caller must see now.
 */

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sqliteOf } from '../../src/app/open-runtime.js';
import type { RunningService } from '../../src/app/service.js';
import { dbOf } from '../../src/ledger/ledger.js';
import { PrivateRedis } from '../helpers/redis-server.js';
import { startAgentApiService } from './agent-api-service.js';

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

const lockEntries = () =>
  (
    dbOf(sqliteOf(service!.runtime))
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

describe.each(['memory', 'redis'] as const)(
  'an agent holding two repositories’ locks (%s store)',
  (store) => {
    it('releases and extends the lock it names, never the other one with the same fencing token', async () => {
      const { register, call } = await start(store);
      const alpha = await register('alpha');
      const beta = await register('beta');
      const web = await alpha.client.acquireLock(600, 'acme/web');
      const api = await alpha.client.acquireLock(600, 'acme/api');
      expect([web.fencingToken, api.fencingToken]).toEqual([1, 1]); // each lock counts its own
      // The token alone names two grants: refused, saying what to send.
      const ambiguous = await call(alpha.token, 'POST', '/locks/release', { fencingToken: 1 });
      expect(ambiguous).toEqual({
        status: 409,
        body: {
          error: 'ambiguous_lock',
          message:
            'alpha holds 2 locks with fencing token 1 (exec:repo:acme/api, exec:repo:acme/web): send the lockKey the grant answered',
        },
      });
      // A lockKey no grant could answer is refused before anything is recorded.
      for (const lockKey of [
        'exec:repo:acme/web\u001b[31m',
        'exec:repo:ACME/web',
        'exec:agent:al pha',
        'lock:x',
      ])
        expect((await call(alpha.token, 'POST', '/locks/release', { fencingToken: 1, lockKey })).status).toBe(
          400,
        );
      await expect(alpha.client.extendLock(web, 900)).resolves.toMatchObject({
        lockKey: 'exec:repo:acme/web',
      });
      await expect(alpha.client.releaseLock(web)).resolves.toEqual({
        released: true,
        lockKey: 'exec:repo:acme/web',
      });
      // acme/api is still alpha's: beta cannot take it; acme/web is free.
      await expect(beta.client.acquireLock(60, 'acme/api')).rejects.toMatchObject({ code: 'lock_held' });
      await expect(beta.client.acquireLock(60, 'acme/web')).resolves.toMatchObject({
        lockKey: 'exec:repo:acme/web',
      });
      // With one grant left under token 1, the token alone names it again.
      expect(await call(alpha.token, 'POST', '/locks/release', { fencingToken: 1 })).toEqual({
        status: 200,
        body: { released: true, lockKey: 'exec:repo:acme/api' },
      });
      expect(await service!.runtime.state.listExecutions()).toEqual([
        expect.objectContaining({ agentId: 'beta', lockKey: 'exec:repo:acme/web' }),
      ]);
    });
  },
);

describe.each(['memory', 'redis'] as const)('the heartbeat sweeper (%s store)', (store) => {
  it('charges nothing for locks that lapsed by themselves while their agent was alive', async () => {
    const { register } = await start(store, 'agent_api: { lock_scope: repo, heartbeat_ttl_seconds: 1 }\n');
    const alpha = await register('alpha');
    for (const repository of ['acme/a', 'acme/b', 'acme/c']) await alpha.client.acquireLock(1, repository);
    // Alive past every lock's TTL: the locks lapse by themselves, then alpha goes quiet.
    for (let i = 0; i < 4; i++) {
      await alpha.client.heartbeat();
      await new Promise((r) => setTimeout(r, 350));
    }
    await new Promise((r) => setTimeout(r, 1100));
    await service!.agentRuntime.sweepHeartbeats();
    expect(dbOf(sqliteOf(service!.runtime)).prepare('SELECT agent_id FROM violations').all()).toEqual([]);
    expect(lockEntries().filter((e) => e.op === 'expired')).toEqual([]);
    expect(await service!.runtime.state.listExecutions()).toEqual([]);
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
    const before = sqliteOf(service!.runtime).head().seq;
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

    const after = sqliteOf(service!.runtime).entriesAfter(before);
    expect(after.map((e) => e.type)).toEqual([...attempts.map(() => 'api.refused'), 'preflight.decided']);
    expect(after.slice(0, attempts.length).map((e) => (e.payload as { path: string }).path)).toEqual(
      attempts.map(([, path]) => `/api/v1${path}`),
    );
  });
});

describe('a Redis that restarts empty while a grant is being recorded', () => {
  /**
   * Between Redis's grant to alpha and its ledger record: Redis restarts empty, the service
   * rebuilds it from the ledger (which has no record of alpha's grant yet), and beta asks. The
   * rebuilt fence stops at the ledger's highest token, so beta gets the very token alpha got.
   */
  async function loseAlphasGrantToBeta(config = CONFIG) {
    const { register } = await start('redis', config);
    const alpha = await register('alpha');
    const beta = await register('beta');
    const gamma = await register('gamma');
    const store = service!.runtime.governance.store;
    const append = store.append.bind(store);
    let betaGot: { fencingToken: number; lockKey: string } | null = null;
    const restartAndLetBetaAsk = async () => {
      await redis.kill();
      await redis.restart();
      await service!.runtime.governance.restoreState();
      betaGot = await beta.client.acquireLock(60, 'acme/web');
    };
    store.append = async (input, options) => {
      const p = input.payload as { op?: string };
      if (input.type === 'execution.lock' && input.agentId === 'alpha' && p.op === 'acquired') {
        store.append = append;
        await restartAndLetBetaAsk();
      }
      return append(input, options);
    };
    const alphaAnswer = await alpha.client.acquireLock(60, 'acme/web').catch((e: Error) => e);
    return {
      alpha,
      beta,
      gamma,
      alphaAnswer,
      betaGot: betaGot! as { fencingToken: number; lockKey: string },
    };
  }

  it('the grant is refused (recorded lost), and the agent that gets the lock after the rebuild is the only holder', async () => {
    const { alphaAnswer, betaGot } = await loseAlphasGrantToBeta();
    expect(String(alphaAnswer)).toMatch(
      /was lost while it was being recorded \(the state store restarted\); not granted/,
    );
    expect(betaGot).not.toBeNull();
    expect(await service!.runtime.state.getLock('exec:repo:acme/web')).toMatchObject({
      token: betaGot.fencingToken,
      holder: expect.stringMatching(/^beta:/),
    });
    expect(lockEntries().map((e) => [e.agent, e.op])).toEqual([
      ['beta', 'acquired'],
      ['alpha', 'acquired'],
      ['alpha', 'lost'],
    ]);
  });

  it("an agent whose retry got the lost grant's very token keeps its lock through the next rebuild, and is charged nothing", async () => {
    const { register } = await start('redis', 'agent_api: { lock_scope: repo, heartbeat_ttl_seconds: 1 }\n');
    const alpha = await register('alpha');
    const gamma = await register('gamma');
    const store = service!.runtime.governance.store;
    const append = store.append.bind(store);
    let retry: { fencingToken: number } | null = null;
    // Alpha's first request is granted, then Redis restarts empty before its record; alpha's retry
    // (its client timed out) is granted the same token by the rebuilt store.
    store.append = async (input, options) => {
      const p = input.payload as { op?: string };
      if (input.type === 'execution.lock' && p.op === 'acquired' && !retry) {
        store.append = append;
        await redis.kill();
        await redis.restart();
        await service!.runtime.governance.restoreState();
        retry = await alpha.client.acquireLock(60, 'acme/web');
      }
      return append(input, options);
    };
    await expect(alpha.client.acquireLock(60, 'acme/web')).rejects.toThrow(
      /was lost while it was being recorded/,
    );
    expect(retry).not.toBeNull();
    expect(lockEntries().map((e) => [e.agent, e.op, e.token])).toEqual([
      ['alpha', 'acquired', retry!.fencingToken],
      ['alpha', 'acquired', retry!.fencingToken],
      ['alpha', 'lost', retry!.fencingToken],
    ]);
    // Alpha holds the lock by its retry and says it is alive; the sweeper runs past the heartbeat TTL.
    for (let i = 0; i < 5; i++) {
      await alpha.client.heartbeat();
      await new Promise((r) => setTimeout(r, 300));
      await service!.agentRuntime.sweepHeartbeats();
    }
    expect(dbOf(sqliteOf(service!.runtime)).prepare('SELECT agent_id FROM violations').all()).toEqual([]);
    // Redis restarts again: the rebuilt store still gives the lock to alpha, not to gamma.
    await redis.kill();
    await redis.restart();
    await service!.runtime.governance.restoreState();
    await expect(gamma.client.acquireLock(60, 'acme/web')).rejects.toMatchObject({ code: 'lock_held' });
    expect(await service!.runtime.state.getLock('exec:repo:acme/web')).toMatchObject({
      token: retry!.fencingToken,
      holder: expect.stringMatching(/^alpha:\d+:[0-9a-f]{12}$/),
    });
  });

  it('a grant whose heartbeat cannot be written is answered not granted, and leaves no execution to charge', async () => {
    const { register } = await start('redis', 'agent_api: { lock_scope: repo, heartbeat_ttl_seconds: 1 }\n');
    const alpha = await register('alpha');
    const state = service!.runtime.governance.state;
    const heartbeat = state.heartbeat.bind(state);
    state.heartbeat = async () => {
      state.heartbeat = heartbeat;
      throw new Error("READONLY You can't write against a read only replica.");
    };
    await expect(alpha.client.acquireLock(60, 'acme/web')).rejects.toMatchObject({ status: 503 });
    expect(await state.listExecutions()).toEqual([]);
    expect(await state.getLock('exec:repo:acme/web')).toBeNull();
    await new Promise((r) => setTimeout(r, 1100));
    await service!.agentRuntime.sweepHeartbeats();
    expect(dbOf(sqliteOf(service!.runtime)).prepare('SELECT agent_id FROM violations').all()).toEqual([]);
    expect(lockEntries().map((e) => e.op)).toEqual(['acquired', 'lost']);
  });

  it('a later rebuild still gives the lock to beta: the lost grant, with the same token, does not free it', async () => {
    const { gamma, betaGot } = await loseAlphasGrantToBeta();
    await redis.kill();
    await redis.restart();
    await service!.runtime.governance.restoreState();
    expect(await service!.runtime.state.getLock('exec:repo:acme/web')).toMatchObject({
      token: betaGot.fencingToken,
      holder: expect.stringMatching(/^beta:\d+:[0-9a-f]{12}$/),
    });
    await expect(gamma.client.acquireLock(60, 'acme/web')).rejects.toMatchObject({
      status: 409,
      code: 'lock_held',
    });
  });

  it('the heartbeat sweeper neither frees beta’s lock for alpha’s lost grant nor charges alpha', async () => {
    const { beta, gamma, betaGot } = await loseAlphasGrantToBeta(
      'agent_api: { lock_scope: repo, heartbeat_ttl_seconds: 1 }\n',
    );
    // Alpha never held the lock and never heartbeats; beta does. Past alpha's heartbeat TTL, sweep.
    for (let i = 0; i < 6; i++) {
      await beta.client.heartbeat();
      await new Promise((r) => setTimeout(r, 300));
      await service!.agentRuntime.sweepHeartbeats();
    }
    expect(await service!.runtime.state.getLock('exec:repo:acme/web')).toMatchObject({
      token: betaGot.fencingToken,
      holder: expect.stringMatching(/^beta:/),
    });
    await expect(gamma.client.acquireLock(60, 'acme/web')).rejects.toMatchObject({ code: 'lock_held' });
    const violations = dbOf(sqliteOf(service!.runtime)).prepare('SELECT agent_id FROM violations').all();
    expect(violations).toEqual([]);
    expect(lockEntries().map((e) => [e.agent, e.op])).toEqual([
      ['beta', 'acquired'],
      ['alpha', 'acquired'],
      ['alpha', 'lost'],
      ['gamma', 'refused'],
    ]);
  });
});
