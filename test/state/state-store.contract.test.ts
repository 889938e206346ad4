import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AgentRecord } from '../../src/core/agent.js';
import { MemoryStateStore } from '../../src/state/memory-state-store.js';
import { RedisStateStore } from '../../src/state/redis-state-store.js';
import type { StateStore } from '../../src/state/state-store.js';
import { PrivateRedis } from '../helpers/redis-server.js';

let redisServer: PrivateRedis;
beforeAll(async () => {
  redisServer = await PrivateRedis.start();
});
afterAll(async () => {
  await redisServer?.stop();
});

const implementations: Array<[string, () => Promise<StateStore>]> = [
  ['memory', async () => new MemoryStateStore()],
  [
    'redis',
    async () => {
      const flush = new Redis(redisServer.url);
      await flush.flushall();
      flush.disconnect();
      const store = await RedisStateStore.connect(redisServer.url);
      await store.markRestored(); // as the service does once it has read the ledger
      return store;
    },
  ],
];

const agent = (id: string, patch: Partial<AgentRecord> = {}): AgentRecord => ({
  id,
  name: id,
  owner: 'alice',
  tier: 'T1',
  status: 'active',
  identities: { githubLogins: [], trailers: [] },
  tokenHash: null,
  registeredAt: '2026-01-01T00:00:00.000Z',
  tierSince: '2026-01-01T00:00:00.000Z',
  ...patch,
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(implementations)('StateStore contract: %s', (_name, create) => {
  let store: StateStore;
  beforeEach(async () => {
    store = await create();
  });
  afterEach(async () => {
    await store.close();
  });

  it('stores agents and patches them, keeping empty lists intact', async () => {
    await store.apply([{ kind: 'put_agent', agent: agent('docs-bot') }]);
    await store.apply([
      { kind: 'patch_agent', agentId: 'docs-bot', patch: { tier: 'T2', status: 'suspended' } },
    ]);
    expect(await store.getAgent('docs-bot')).toEqual(agent('docs-bot', { tier: 'T2', status: 'suspended' }));
    await store.apply([{ kind: 'patch_agent', agentId: 'ghost', patch: { tier: 'T4' } }]);
    expect(await store.getAgent('ghost')).toBeNull();
    expect((await store.listAgents()).map((a) => a.id)).toEqual(['docs-bot']);
  });

  it('sets, lists and clears revoke signals', async () => {
    const signal = {
      agentId: 'rogue',
      reason: 'leaked a key',
      actor: 'alice',
      at: '2026-01-01T00:00:00.000Z',
      seq: 7,
    };
    await store.apply([{ kind: 'set_revoke_signal', signal }]);
    expect(await store.getRevokeSignal('rogue')).toEqual(signal);
    expect(await store.listRevocations()).toEqual([signal]);
    await store.apply([{ kind: 'clear_revoke_signal', agentId: 'rogue' }]);
    expect(await store.getRevokeSignal('rogue')).toBeNull();
    expect(await store.listRevocations()).toEqual([]);
  });

  it('grants a lock to one holder and fences stale holders', async () => {
    const first = await store.acquireLock('repo:acme/web', 'agent-a', 60);
    expect(first.acquired).toBe(true);
    const second = await store.acquireLock('repo:acme/web', 'agent-b', 60);
    expect(second).toMatchObject({ acquired: false, holder: 'agent-a' });
    await sleep(90);
    const third = await store.acquireLock('repo:acme/web', 'agent-b', 5000);
    expect(third.acquired).toBe(true);
    if (!first.acquired || !third.acquired) throw new Error('unreachable');
    expect(third.token).toBeGreaterThan(first.token);
    // The first holder's TTL ran out: it may neither release nor extend the new holder's lock.
    expect(await store.releaseLock('repo:acme/web', first.token, 'agent-a')).toBe(false);
    expect(await store.extendLock('repo:acme/web', first.token, 5000, 'agent-a')).toBe(false);
    expect(await store.getLock('repo:acme/web')).toMatchObject({ holder: 'agent-b', token: third.token });
    expect(await store.extendLock('repo:acme/web', third.token, 5000, 'agent-b')).toBe(true);
    expect(await store.releaseLock('repo:acme/web', third.token, 'agent-b')).toBe(true);
    expect(await store.getLock('repo:acme/web')).toBeNull();
  });

  it('lets only the holder (or the service, owner null) release or extend, whatever the token', async () => {
    const grant = await store.acquireLock('repo:acme/web', 'beta:1700000000000', 5000);
    if (!grant.acquired) throw new Error('unreachable');
    for (const owner of ['alpha', 'bet', 'beta:1700000000000x', '']) {
      expect(await store.releaseLock('repo:acme/web', grant.token, owner), owner).toBe(false);
      expect(await store.extendLock('repo:acme/web', grant.token, 5000, owner), owner).toBe(false);
    }
    expect(await store.extendLock('repo:acme/web', grant.token, 5000, 'beta')).toBe(true);
    expect(await store.releaseLock('repo:acme/web', grant.token, 'beta')).toBe(true);
    const next = await store.acquireLock('repo:acme/web', 'gamma', 5000);
    if (!next.acquired) throw new Error('unreachable');
    expect(await store.releaseLock('repo:acme/web', next.token, null)).toBe(true);
  });

  it('keeps every lock name apart from the keys the store uses itself', async () => {
    const names = ['exec:repo:acme/web', 'exec:repo:acme/web:fence', 'fence:exec:repo:acme/web'];
    for (const name of names) {
      const first = await store.acquireLock(name, 'a', 5000);
      expect(first, name).toMatchObject({ acquired: true, token: 1 });
      if (first.acquired) expect(await store.releaseLock(name, first.token, 'a')).toBe(true);
    }
    for (const name of names)
      expect(await store.acquireLock(name, 'b', 5000), name).toMatchObject({ acquired: true, token: 2 });
  });

  it('keeps exactly one lock holder among many concurrent clients', async () => {
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => store.acquireLock('agent:busy', `client-${i}`, 5000)),
    );
    expect(results.filter((r) => r.acquired)).toHaveLength(1);
  });

  it('gives a lease to one owner: another can neither renew nor release it until it runs out', async () => {
    const a = await store.acquireLease('periodic-work', 'replica-a', 5000);
    expect(a).toMatchObject({ held: true, fence: 1 });
    expect(await store.acquireLease('periodic-work', 'replica-b', 5000)).toMatchObject({
      held: false,
      holder: 'replica-a',
    });
    await store.releaseLease('periodic-work', 'replica-b');
    expect(await store.acquireLease('periodic-work', 'replica-b', 5000)).toMatchObject({ held: false });
    // A renewal keeps the fence: the holder never changed.
    expect(await store.acquireLease('periodic-work', 'replica-a', 5000)).toMatchObject({
      held: true,
      fence: 1,
    });
  });

  it('moves a lease that ran out to the next owner with a higher fence, and frees it on release', async () => {
    await store.acquireLease('periodic-work', 'replica-a', 60);
    await sleep(90);
    expect(await store.acquireLease('periodic-work', 'replica-b', 5000)).toMatchObject({
      held: true,
      fence: 2,
    });
    // The old holder comes back: it is told who holds it, and cannot take it back by renewing.
    expect(await store.acquireLease('periodic-work', 'replica-a', 5000)).toMatchObject({
      held: false,
      holder: 'replica-b',
    });
    await store.releaseLease('periodic-work', 'replica-b');
    expect(await store.acquireLease('periodic-work', 'replica-a', 5000)).toMatchObject({
      held: true,
      fence: 3,
    });
  });

  it('keeps exactly one lease holder among many concurrent owners, and leases apart from locks', async () => {
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => store.acquireLease('periodic-work', `replica-${i}`, 5000)),
    );
    expect(results.filter((r) => r.held)).toHaveLength(1);
    // An agent's lock of the same name is another thing entirely.
    expect(await store.acquireLock('periodic-work', 'docs-bot', 5000)).toMatchObject({
      acquired: true,
      token: 1,
    });
  });

  it('lists the replicas announced and forgets one whose announcement ran out or was withdrawn', async () => {
    const replica = (id: string) => ({
      id,
      host: `host-${id}`,
      pid: 100,
      ledger: 'postgres',
      startedAt: '2026-11-27T00:00:00.000Z',
    });
    await store.announceReplica(replica('b'), 5000);
    await store.announceReplica(replica('a'), 60);
    await store.announceReplica(replica('c'), 5000);
    expect((await store.listReplicas()).map((r) => r.id)).toEqual(['a', 'b', 'c']);
    await sleep(90);
    await store.withdrawReplica('c');
    expect(await store.listReplicas()).toEqual([replica('b')]);
  });

  it('remembers executions and forgets one only for its own lock and token', async () => {
    await store.setExecution({ agentId: 'a', lockKey: 'agent:a', token: 7, startedAt: 1 });
    await store.setExecution({ agentId: 'b', lockKey: 'repo:acme/web', token: 12, startedAt: 2 });
    await store.clearExecution('a', 'agent:a', 6);
    await store.clearExecution('a', 'repo:acme/web', 7);
    expect((await store.listExecutions()).map((e) => [e.agentId, e.token])).toEqual([
      ['a', 7],
      ['b', 12],
    ]);
    await store.clearExecution('a', 'agent:a', 7);
    expect(await store.listExecutions()).toEqual([
      { agentId: 'b', lockKey: 'repo:acme/web', token: 12, startedAt: 2 },
    ]);
  });

  it('keeps an agent’s executions under two locks apart, even with the same token', async () => {
    await store.setExecution({ agentId: 'a', lockKey: 'repo:acme/web', token: 1, startedAt: 1 });
    await store.setExecution({ agentId: 'a', lockKey: 'repo:acme/api', token: 1, startedAt: 2 });
    expect((await store.listExecutions()).map((e) => e.lockKey).sort()).toEqual([
      'repo:acme/api',
      'repo:acme/web',
    ]);
    await store.clearExecution('a', 'repo:acme/web', 1);
    expect(await store.listExecutions()).toEqual([
      { agentId: 'a', lockKey: 'repo:acme/api', token: 1, startedAt: 2 },
    ]);
  });

  it('expires heartbeats', async () => {
    await store.heartbeat('docs-bot', 60);
    expect(await store.lastHeartbeat('docs-bot')).toBeTypeOf('number');
    await sleep(90);
    expect(await store.lastHeartbeat('docs-bot')).toBeNull();
  });

  it('charges budgets over a rolling window and reports the one charge that crosses the limit', async () => {
    const now = Date.now();
    expect(
      await store.chargeBudget('docs-bot', { id: 'old', amount: 50, at: now - 10_000 }, 10, now - 5_000),
    ).toEqual({
      used: 0,
      crossedLimit: false,
    });
    expect(await store.chargeBudget('docs-bot', { id: 'a', amount: 6, at: now }, 10, now - 5_000)).toEqual({
      used: 6,
      crossedLimit: false,
    });
    expect(await store.chargeBudget('docs-bot', { id: 'b', amount: 4.5, at: now }, 10, now - 5_000)).toEqual({
      used: 10.5,
      crossedLimit: true,
    });
    // The same charge again (a replay) changes nothing and crosses nothing.
    expect(await store.chargeBudget('docs-bot', { id: 'b', amount: 4.5, at: now }, 10, now - 5_000)).toEqual({
      used: 10.5,
      crossedLimit: false,
    });
    expect(await store.budgetUsed('docs-bot', now - 5_000)).toBe(10.5);
  });

  it('lets exactly one of many concurrent charges cross the budget limit', async () => {
    const now = Date.now();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        store.chargeBudget('racer', { id: `c${i}`, amount: 1, at: now }, 10, now - 1000),
      ),
    );
    expect(results.filter((r) => r.crossedLimit)).toHaveLength(1);
    expect(await store.budgetUsed('racer', now - 1000)).toBe(20);
  });

  it('rate-limits in a sliding window', async () => {
    const hits = [];
    for (let i = 0; i < 4; i++) hits.push(await store.hitRateLimit('preflight:docs-bot', 3, 100));
    expect(hits.map((h) => h.allowed)).toEqual([true, true, true, false]);
    await sleep(120);
    expect((await store.hitRateLimit('preflight:docs-bot', 3, 100)).allowed).toBe(true);
  });

  it('counts request rates with rate-limiter-flexible, atomically, with the wait past the limit', async () => {
    const limiter = store.rateLimiter('contract', 5, 60);
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => limiter.consume('alpha')));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(5);
    const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason.msBeforeNext).toBeGreaterThan(0);
    expect(refused.reason.msBeforeNext).toBeLessThanOrEqual(60_000);
    // Another key, and another limiter's same key, count apart.
    await expect(limiter.consume('beta')).resolves.toMatchObject({ remainingPoints: 4 });
    await expect(store.rateLimiter('other', 5, 60).consume('alpha')).resolves.toMatchObject({
      remainingPoints: 4,
    });
  });

  it('de-duplicates webhook deliveries', async () => {
    expect(await store.markDeliverySeen('72d3162e-cc78-11e3-81ab-4c9367dc0958', 60_000)).toBe(true);
    expect(await store.markDeliverySeen('72d3162e-cc78-11e3-81ab-4c9367dc0958', 60_000)).toBe(false);
    const concurrent = await Promise.all(
      Array.from({ length: 10 }, () => store.markDeliverySeen('d-2', 60_000)),
    );
    expect(concurrent.filter(Boolean)).toHaveLength(1);
  });

  it('queues alerts first in first out', async () => {
    for (const n of [1, 2, 3]) {
      await store.pushAlert({ kind: 'agent_revoked', agentId: `a${n}`, message: `m${n}`, at: 'now' });
    }
    expect(await store.alertQueueLength()).toBe(3);
    expect((await store.takeAlerts(2)).map((a) => a.message)).toEqual(['m1', 'm2']);
    expect((await store.takeAlerts(5)).map((a) => a.message)).toEqual(['m3']);
    expect(await store.takeAlerts(5)).toEqual([]);
  });

  it('snapshots and replaces the derived state, keeping pending approvals', async () => {
    await store.apply([
      { kind: 'put_agent', agent: agent('a') },
      { kind: 'put_agent', agent: agent('b') },
      { kind: 'charge_budget', agentId: 'a', charge: { id: 'seq-3', amount: 5, at: 1000 } },
      {
        kind: 'add_pending_approval',
        approval: { approvalId: 'ap-1', agentId: 'a', subject: 'acme/web#4', required: 2, expiresAt: 'x' },
      },
      { kind: 'set_revoke_signal', signal: { agentId: 'b', reason: 'r', actor: 'x', at: 't', seq: 4 } },
    ]);
    const before = await store.snapshot();
    expect(Object.keys(before.agents)).toEqual(['a', 'b']);
    await store.replaceDerived({ agents: {}, revocations: {}, budgets: {}, pendingApprovals: {} });
    expect(await store.snapshot()).toEqual({
      agents: {},
      revocations: {},
      budgets: {},
      pendingApprovals: {},
    });
    expect(await store.getRevokeSignal('b')).toBeNull();
    await store.replaceDerived(before);
    expect(await store.snapshot()).toEqual(before);
  });
});

describe('Redis lock across separate connections', () => {
  it('gives the lock to exactly one of many processes racing', async () => {
    const stores = await Promise.all(
      Array.from({ length: 8 }, () => RedisStateStore.connect(redisServer.url)),
    );
    try {
      await stores[0]!.markRestored();
      const results = await Promise.all(stores.map((s, i) => s.acquireLock('race:one', `p${i}`, 5000)));
      expect(results.filter((r) => r.acquired)).toHaveLength(1);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it('gives the lease to exactly one of many processes racing, before the store is restored too', async () => {
    const flush = new Redis(redisServer.url);
    await flush.flushall();
    flush.disconnect();
    const stores = await Promise.all(
      Array.from({ length: 8 }, () => RedisStateStore.connect(redisServer.url)),
    );
    try {
      const results = await Promise.all(stores.map((s, i) => s.acquireLease('race:lease', `p${i}`, 5000)));
      expect(results.filter((r) => r.held)).toHaveLength(1);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it('reports an unreachable server with the URL and what to do', async () => {
    await expect(RedisStateStore.connect('redis://127.0.0.1:1', { connectTimeoutMs: 500 })).rejects.toThrow(
      /cannot reach the state store at redis:\/\/127\.0\.0\.1:1.*REDIS_URL/,
    );
  });
});

describe('Redis that comes back empty', () => {
  it('hands out no lock until the store is restored from the ledger, so no fencing token is used twice', async () => {
    const store = await RedisStateStore.connect(redisServer.url);
    try {
      await store.markRestored();
      const first = await store.acquireLock('repo:acme/web', 'a', 5000);
      expect(first).toMatchObject({ acquired: true, token: 1 });
      // Redis restarted with nothing kept: the fencing counter is gone with everything else.
      const flush = new Redis(redisServer.url);
      await flush.flushall();
      flush.disconnect();
      await expect(store.acquireLock('repo:acme/web', 'b', 5000)).rejects.toThrow(
        'the state store came back empty and is being rebuilt from the ledger; try again',
      );
      // The service restores the counters from the ledger, then marks the store restored.
      await store.restoreLock('repo:acme/web', 'none', 1, 0);
      await store.markRestored();
      expect(await store.acquireLock('repo:acme/web', 'b', 5000)).toMatchObject({ acquired: true, token: 2 });
    } finally {
      await store.close();
    }
  });
});
