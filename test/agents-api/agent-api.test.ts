import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sqliteOf } from '../../src/app/open-runtime.js';
import type { RunningService } from '../../src/app/service.js';
import { AgentApiError } from '../../src/client/index.js';
import { dbOf } from '../../src/ledger/ledger.js';
import { PrivateRedis } from '../helpers/redis-server.js';
import { emptyRedis, startAgentApiService } from './agent-api-service.js';

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

async function start(config = '', probeMs = 200) {
  const api = await startAgentApiService({
    config: config || 'agent_api: { lock_scope: repo, heartbeat_ttl_seconds: 1 }\n',
    redisUrl: redis.url,
    env: { HEALTH_PROBE_INTERVAL_MS: String(probeMs) },
  });
  service = api.service;
  const register = async (id: string, tier: 'T1' | 'T2' | 'T3' = 'T2') =>
    (await api.register(id, tier)).client;
  return { base: api.base, register };
}

const entries = (type: string) =>
  dbOf(sqliteOf(service!.runtime))
    .prepare('SELECT agent_id, payload FROM ledger_entries WHERE type = ? ORDER BY seq')
    .all(type) as {
    agent_id: string | null;
    payload: string;
  }[];

describe('preflight over HTTP with a real Redis', () => {
  it('allows a preflight within the tier, and denies a revoked agent with the reason', async () => {
    const { register } = await start();
    const agent = await register('builder-bot');
    const allowed = await agent.preflight({ action: 'push', repository: 'acme/web', paths: ['src/app.ts'] });
    expect(allowed).toMatchObject({ decision: 'allow', reasons: [] });
    // The answer names its ledger entry: the agent's receipt.
    expect(
      dbOf(sqliteOf(service!.runtime))
        .prepare('SELECT type, agent_id FROM ledger_entries WHERE seq = ?')
        .get(allowed.seq),
    ).toEqual({
      type: 'preflight.decided',
      agent_id: 'builder-bot',
    });
    const t1 = await register('docs-bot', 'T1');
    const denied = await t1.preflight({ action: 'push', repository: 'acme/web', paths: ['src/app.ts'] });
    expect(denied.reasons).toEqual([
      'action: T1 may not push (allowed: read, open_pr)',
      'paths: outside what T1 may change: src/app.ts',
    ]);

    await service!.runtime.governance.record([
      {
        type: 'agent.status_changed',
        agentId: 'builder-bot',
        actor: 'carol',
        payload: { from: 'active', to: 'revoked', reason: 'leaked a key' },
      },
    ]);
    const revoked = await agent.preflight({ action: 'read', repository: 'acme/web' });
    expect(revoked.decision).toBe('deny');
    expect(revoked.reasons[0]).toMatch(/^revocation: revoked at .* by carol: leaked a key$/);
    expect(entries('preflight.decided').map((e) => JSON.parse(e.payload).decision)).toEqual([
      'allow',
      'deny',
      'deny',
    ]);
  });
});

describe('execution locks', () => {
  it('gives a repository lock to exactly one of two racing agents, and refuses a stale holder', async () => {
    const { register } = await start();
    const a = await register('agent-a');
    const b = await register('agent-b');
    const results = await Promise.allSettled([a.acquireLock(60, 'acme/web'), b.acquireLock(60, 'acme/web')]);
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    expect(won).toHaveLength(1);
    expect(lost[0]!.reason).toMatchObject({ status: 409, code: 'lock_held' });

    const winner = won[0]!.status === 'fulfilled' ? won[0]!.value : null;
    const holder = results[0]!.status === 'fulfilled' ? a : b;
    const other = holder === a ? b : a;
    // The holder's lock runs out; the other takes it; the first may not release the new grant.
    await holder.releaseLock(winner!);
    const second = await other.acquireLock(60, 'acme/web');
    expect(second.fencingToken).toBeGreaterThan(winner!.fencingToken);
    await expect(holder.releaseLock(winner!)).rejects.toMatchObject({ status: 409, code: 'stale_lock' });
    await expect(other.releaseLock(second)).resolves.toMatchObject({
      released: true,
      lockKey: 'exec:repo:acme/web',
    });
  });
});

describe('heartbeats', () => {
  it('turns a missed heartbeat into a heartbeat_missed violation and frees the lock', async () => {
    const { register } = await start();
    const agent = await register('sleepy-bot');
    const lock = await agent.acquireLock(60, 'acme/api');
    // The service's own sweeper (every 200 ms here) catches it once the 1 s heartbeat lapses.
    await expect
      .poll(() => dbOf(sqliteOf(service!.runtime)).prepare('SELECT COUNT(*) AS n FROM violations').get(), {
        timeout: 5000,
        interval: 100,
      })
      .toEqual({ n: 1 });
    const violations = dbOf(sqliteOf(service!.runtime))
      .prepare('SELECT type, severity, details FROM violations')
      .all();
    expect(violations).toEqual([
      {
        type: 'heartbeat_missed',
        severity: 'medium',
        details: 'no heartbeat for 1 s while holding exec:repo:acme/api; lock freed',
      },
    ]);
    await expect(agent.releaseLock(lock)).rejects.toMatchObject({ code: 'stale_lock' });
    expect(await service!.runtime.state.getLock('exec:repo:acme/api')).toBeNull();
  });

  it('keeps a heartbeating execution alive', async () => {
    const { register } = await start();
    const agent = await register('busy-bot');
    await agent.acquireLock(60, 'acme/api');
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setTimeout(r, 500));
      await agent.heartbeat();
    }
    expect(await service!.agentRuntime.sweepHeartbeats()).toEqual([]);
  });
});

describe('session checkpoints and lifecycle events', () => {
  it('loads the session checkpoint that was saved last', async () => {
    const { register } = await start();
    const agent = await register('resumable-bot');
    expect(await agent.loadCheckpoint()).toBeNull();
    await agent.saveCheckpoint({ step: 1 });
    const saved = await agent.saveCheckpoint({ step: 2, plan: ['edit', 'test'], nested: { ok: true } });
    expect(await agent.loadCheckpoint()).toEqual({
      seq: saved.seq,
      savedAt: saved.savedAt,
      state: { step: 2, plan: ['edit', 'test'], nested: { ok: true } },
    });
    await expect(agent.saveCheckpoint({ blob: 'x'.repeat(300 * 1024) })).rejects.toMatchObject({
      status: 413,
      code: 'checkpoint_too_large',
    });
  });

  it('records lifecycle events in the ledger', async () => {
    const { register } = await start();
    const agent = await register('planner-bot');
    await agent.event('plan_created', { repository: 'acme/web', steps: 3 });
    await agent.event('execution_started');
    await agent.event('execution_complete', { result: 'ok' });
    expect(entries('integration.event').map((e) => JSON.parse(e.payload).event)).toEqual([
      'plan_created',
      'execution_started',
      'execution_complete',
    ]);
    await expect(agent.event('agent_revoked' as never)).rejects.toMatchObject({ status: 400 });
  });
});

describe('Redis killed mid-run', () => {
  it('readyz reports it, preflight fails closed with the reason, and everything recovers when Redis returns', async () => {
    const { base, register } = await start();
    const agent = await register('steady-bot');
    expect((await agent.preflight({ action: 'read', repository: 'acme/web' })).decision).toBe('allow');

    await redis.kill();
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      status: 'degraded',
      dependencies: { ledger: { state: 'up' }, state_store: { state: 'down' } },
    });
    const denied = await agent.preflight({ action: 'read', repository: 'acme/web' });
    expect(denied.decision).toBe('deny');
    expect(denied.reasons[0]).toMatch(/^state_store: state store unavailable/);

    // Redis comes back empty; the service notices and rebuilds it from the ledger by itself.
    await redis.restart();
    await expect
      .poll(async () => ((await (await fetch(`${base}/readyz`)).json()) as any).status, {
        timeout: 10_000,
        interval: 200,
      })
      .toBe('ready');
    await expect
      .poll(async () => (await agent.preflight({ action: 'read', repository: 'acme/web' })).decision, {
        timeout: 10_000,
        interval: 200,
      })
      .toBe('allow');
    expect(await service!.runtime.state.getAgent('steady-bot')).toMatchObject({
      tier: 'T2',
      status: 'active',
    });
  });
});

describe('Redis emptied between two health probes', () => {
  it('answers nothing from the empty store until upkeep rebuilds it, and fencing tokens keep growing', async () => {
    const { register } = await start('', 3_600_000);
    const agent = await register('steady-bot');
    const first = await agent.acquireLock(30, 'acme/web');
    await agent.releaseLock(first);
    // Emptied without ever looking down (a restart faster than a probe, or FLUSHALL).
    await emptyRedis(redis.url);
    const denied = await agent.preflight({ action: 'read', repository: 'acme/web' });
    expect(denied.decision).toBe('deny');
    expect(denied.reasons[0]).toMatch(/the state store came back empty and is being rebuilt from the ledger/);
    await expect(agent.acquireLock(30, 'acme/web')).rejects.toThrow(/being rebuilt from the ledger/);

    await service!.maintenance();
    expect((await agent.preflight({ action: 'read', repository: 'acme/web' })).decision).toBe('allow');
    const next = await agent.acquireLock(30, 'acme/web');
    expect(next.fencingToken).toBe(first.fencingToken + 1);
  });
});

it('exports the client error type', () => {
  expect(new AgentApiError(409, 'lock_held', 'x')).toBeInstanceOf(Error);
});
