import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/app/open-runtime.js';
import { sqliteOf } from '../../src/app/open-runtime.js';
import { agov } from '../helpers/agov.js';
import { PrivateRedis } from '../helpers/redis-server.js';
import { testRuntime } from '../helpers/runtime.js';

let redisServer: PrivateRedis;
beforeAll(async () => {
  redisServer = await PrivateRedis.start();
});
beforeEach(async () => {
  const raw = new Redis(redisServer.url);
  await raw.flushall();
  raw.disconnect();
});
afterAll(async () => {
  await redisServer?.stop();
});

async function liveHistory(rt: Runtime): Promise<void> {
  const g = rt.governance;
  await g.registerAgent(
    { id: 'docs-bot', tier: 'T1', owner: 'alice', identities: { githubLogins: ['docs-bot[bot]'] } },
    'alice',
  );
  await g.registerAgent({ id: 'infra-bot', tier: 'T3', owner: 'bob' }, 'bob');
  await g.record([
    {
      type: 'violation.recorded',
      agentId: 'docs-bot',
      actor: 'github',
      payload: {
        violation: 'ci_failure',
        severity: 'low',
        consequence: 'charge_budget',
        budgetCharge: 1,
        details: 'CI failed on acme/web#4',
        source: 'github',
      },
    },
    {
      type: 'approval.requested',
      agentId: 'docs-bot',
      actor: 'github',
      payload: {
        approvalId: 'ap-1',
        subject: 'acme/web#4',
        required: 2,
        expiresAt: '2026-12-01T00:00:00.000Z',
      },
    },
  ]);
  rt.checkpoints!.create();
  // Entries after the checkpoint are replayed on top of it.
  await g.record([
    {
      type: 'agent.tier_changed',
      agentId: 'docs-bot',
      actor: 'alice',
      payload: { from: 'T1', to: 'T2', reason: 'earned it', kind: 'promotion' },
    },
    {
      type: 'agent.status_changed',
      agentId: 'infra-bot',
      actor: 'carol',
      payload: { from: 'active', to: 'revoked', reason: 'leaked a key' },
    },
    {
      type: 'violation.recorded',
      agentId: 'docs-bot',
      actor: 'github',
      payload: {
        violation: 'diff_size_exceeded',
        severity: 'medium',
        consequence: 'charge_budget',
        budgetCharge: 5,
        details: '900 lines',
        source: 'github',
      },
    },
  ]);
}

it('rebuilds an emptied Redis identical to what it was, from the newest checkpoint plus the ledger', async () => {
  const rt = await testRuntime({ redisUrl: redisServer.url });
  try {
    await liveHistory(rt);
    const before = await rt.state.snapshot();
    expect(Object.keys(before.agents)).toEqual(['docs-bot', 'infra-bot']);
    expect(before.agents['docs-bot']!.tier).toBe('T2');
    expect(Object.keys(before.revocations)).toEqual(['infra-bot']);
    expect(before.budgets['docs-bot']!.map((c) => c.amount)).toEqual([1, 5]);

    const raw = new Redis(redisServer.url);
    await raw.flushall();
    expect(await raw.dbsize()).toBe(0);
    raw.disconnect();

    const r = agov(['checkpoint', 'restore'], {
      LEDGER_PATH: rt.env.LEDGER_PATH,
      REDIS_URL: redisServer.url,
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    // 7 entries of history and the key pin the first checkpoint wrote.
    expect(r.stdout).toMatch(
      /restored the redis state store from checkpoint ckpt-\d{8}-\d{6}-[0-9a-f]{8} up to entry 8/,
    );
    expect(await rt.state.snapshot()).toEqual(before);
    expect(await rt.state.getRevokeSignal('infra-bot')).toMatchObject({
      reason: 'leaked a key',
      actor: 'carol',
    });
  } finally {
    await rt.close();
  }
});

it('rebuilds an in-process store to the same state as Redis holds', async () => {
  const rt = await testRuntime({ redisUrl: redisServer.url });
  await liveHistory(rt);
  const fromRedis = await rt.state.snapshot();
  await rt.close();
  const memory = await testRuntime({ ledgerPath: rt.env.LEDGER_PATH });
  await memory.governance.restoreState();
  expect(await memory.state.snapshot()).toEqual(fromRedis);
  await memory.close();
});

describe('locks after a restart', () => {
  it('an extended lock comes back with its extended deadline, not the one it was taken with', async () => {
    const rt = await testRuntime();
    try {
      const lock = (op: string, detail: string) => ({
        type: 'execution.lock' as const,
        agentId: null,
        actor: 'alpha',
        payload: { op, lockKey: 'agent:alpha', token: 7, detail },
      });
      await rt.governance.registerAgent({ id: 'alpha', tier: 'T1' }, 'test');
      sqliteOf(rt).appendAll([
        { ...lock('acquired', 'for 0 s'), agentId: 'alpha' },
        { ...lock('extended', 'for 600 s'), agentId: 'alpha' },
      ] as never);
      await rt.governance.restoreState();
      const held = await rt.state.getLock('agent:alpha');
      expect(held).toMatchObject({ holder: 'alpha:restored', token: 7 });
      expect(held!.expiresAt).toBeGreaterThan(Date.now() + 500_000);
    } finally {
      await rt.close();
    }
  });
});
