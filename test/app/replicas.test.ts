/**
 * Several `agov serve` on one state store (issue 15, items 3 and 4): a replica that would keep a
 * different record is refused before it touches the shared state, a restarted replica takes its
 * place back, and the shared periodic work runs on one replica at a time, moving when it dies.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sqliteOf } from '../../src/app/open-runtime.js';
import { PERIODIC_WORK, ReplicaPresence, thisReplica } from '../../src/app/replicas.js';
import type { RunningService } from '../../src/app/service.js';
import { dbOf } from '../../src/ledger/ledger.js';
import { createLogger } from '../../src/platform/logger.js';
import { RedisStateStore } from '../../src/state/redis-state-store.js';
import { emptyRedis, startAgentApiService } from '../agents-api/agent-api-service.js';
import { AGOV, tempDir } from '../helpers/agov.js';
import { PrivateRedis } from '../helpers/redis-server.js';

let redis: PrivateRedis;
const children: ChildProcess[] = [];
const stores: RedisStateStore[] = [];
let service: RunningService | null = null;

beforeAll(async () => {
  redis = await PrivateRedis.start();
});
afterAll(async () => {
  await redis?.stop();
});
beforeEach(async () => {
  await emptyRedis(redis.url);
});
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && !child.killed) child.kill('SIGKILL');
  await service?.stop();
  service = null;
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

const silent = createLogger('silent');

async function store(): Promise<RedisStateStore> {
  const s = await RedisStateStore.connect(redis.url);
  stores.push(s);
  return s;
}

/** A ledger directory with an organisation config naming one agent of its own. */
function installation(agent: string): { LEDGER_PATH: string; GOVERNANCE_CONFIG: string } {
  const dir = tempDir();
  const config = join(dir, 'agent-governance.yml');
  writeFileSync(config, `agents:\n  - { id: ${agent}, tier: T1, owner: olivia }\n`);
  return { LEDGER_PATH: join(dir, 'ledger.db'), GOVERNANCE_CONFIG: config };
}

/** `agov serve` in a child process: its port once it listens, or its exit code and output. */
function serve(
  env: Record<string, string>,
): Promise<{ port: number; child: ChildProcess } | { exit: number | null; stderr: string; stdout: string }> {
  const child = spawn(process.execPath, [AGOV, 'serve'], {
    env: {
      PATH: process.env.PATH,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      REDIS_URL: redis.url,
      PERIODIC_LEASE_MS: '1000',
      ...env,
    },
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (d) => {
    stderr += d;
  });
  return new Promise((resolve) => {
    child.stdout!.on('data', (d) => {
      stdout += d;
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(stdout);
      if (m) resolve({ port: Number(m[1]), child });
    });
    child.once('exit', (code) => resolve({ exit: code, stderr, stdout }));
  });
}

async function leaderGauge(port: number): Promise<string | undefined> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return /^agov_periodic_work_leader (\d)$/m.exec(text)?.[1];
}

describe('a replica that cannot share the work is refused at start', () => {
  it('a second replica on its own SQLite ledger and the same Redis: refused, naming the first, before it rebuilds the shared state', async () => {
    const first = await serve(installation('alpha-bot'));
    expect(first).toHaveProperty('port');
    const second = await serve(installation('beta-bot'));
    expect(second).toMatchObject({ exit: 2 });
    if (!('exit' in second)) return;
    const lines = second.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^agov: another replica \(.+, pid \d+, ledger sqlite:\/.+\) uses this state store; replicas on their own ledgers would each keep a different record\. Run several replicas on one PostgreSQL ledger \(DATABASE_URL\)/,
    );
    expect(second.stderr).not.toMatch(/\n\s+at /);
    // The shared state is still the first replica's: the second never rebuilt it from its ledger.
    const s = await store();
    expect((await s.listAgents()).map((a) => a.id)).toEqual(['alpha-bot']);
    expect((await s.listReplicas()).map((r) => r.pid)).toEqual([
      (first as { child: ChildProcess }).child.pid,
    ]);
  });

  it('a second agov serve on the same ledger while the first runs: refused, naming its pid', async () => {
    const env = installation('alpha-bot');
    const first = await serve(env);
    if (!('port' in first)) throw new Error(first.stderr);
    const second = await serve(env);
    expect(second).toMatchObject({ exit: 2 });
    if (!('exit' in second)) return;
    expect(second.stderr.trim()).toBe(
      `agov: another agov serve (pid ${first.child.pid}, started ${second.stderr.match(/started (\S+)\)/)?.[1]}) is running on this ledger (${env.LEDGER_PATH}); stop it first`,
    );
    // The first is untouched: it still answers and still runs the periodic work.
    expect(await leaderGauge(first.port)).toBe('1');
  });

  it('a replica killed with SIGKILL starts again at once on its ledger, and runs the periodic work once its old lease ran out', async () => {
    const env = installation('alpha-bot');
    const first = await serve(env);
    if (!('port' in first)) throw new Error(first.stderr);
    const exited = new Promise((resolve) => first.child.once('exit', resolve));
    first.child.kill('SIGKILL');
    await exited;
    const again = await serve(env);
    if (!('port' in again)) throw new Error(`refused after a crash: ${again.stderr}`);
    await expect.poll(() => leaderGauge(again.port), { timeout: 10_000, interval: 200 }).toBe('1');
  });
});

describe('without Redis, one agov serve per ledger file', () => {
  const noRedis = (env: Record<string, string>) => serve({ ...env, REDIS_URL: '' });

  it('a second agov serve on the same ledger is refused while the first runs, and starts once it stopped', async () => {
    const env = installation('alpha-bot');
    const first = await noRedis(env);
    if (!('port' in first)) throw new Error(first.stderr);
    expect(statSync(`${env.LEDGER_PATH}.serve`).mode & 0o777).toBe(0o600);
    const second = await noRedis(env);
    expect(second).toMatchObject({ exit: 2 });
    if (!('exit' in second)) return;
    expect(second.stderr.trim()).toMatch(
      new RegExp(
        `^agov: another agov serve \\(pid ${first.child.pid}, started \\S+\\) is running on this ledger`,
      ),
    );
    // The refused one leaves the first's marker alone.
    expect(existsSync(`${env.LEDGER_PATH}.serve`)).toBe(true);
    const exited = new Promise((resolve) => first.child.once('exit', resolve));
    first.child.kill('SIGTERM');
    await exited;
    expect(existsSync(`${env.LEDGER_PATH}.serve`)).toBe(false);
    expect(await noRedis(env)).toHaveProperty('port');
  });

  it('after a SIGKILL the marker names a process that is gone, and the next start takes it', async () => {
    const env = installation('alpha-bot');
    const first = await noRedis(env);
    if (!('port' in first)) throw new Error(first.stderr);
    const exited = new Promise((resolve) => first.child.once('exit', resolve));
    first.child.kill('SIGKILL');
    await exited;
    expect(existsSync(`${env.LEDGER_PATH}.serve`)).toBe(true);
    const again = await noRedis(env);
    if (!('port' in again)) throw new Error(`refused after a crash: ${again.stderr}`);
    expect(await leaderGauge(again.port)).toBe('1');
  });
});

describe('the periodic-work lease', () => {
  const presence = async (name: string, ttlMs: number, now?: () => number) => {
    const me = thisReplica(join('/srv', name, 'ledger.db'), new Date(), `host-${name}`);
    return new ReplicaPresence(await store(), me, ttlMs, silent, now);
  };

  it('runs on one replica at a time; a replica that stops renewing loses it to the other with a higher fence', async () => {
    const a = await presence('a', 600);
    const b = await presence('b', 600);
    await a.renew();
    await b.renew();
    expect([a.runsPeriodicWork(), b.runsPeriodicWork()]).toEqual([true, false]);
    expect(b.status().holder).toBe(a.status().holder);
    const fence = a.status().fence!;
    // a dies: it renews no more. b takes the lease once it ran out, never before.
    await new Promise((r) => setTimeout(r, 700));
    expect(a.runsPeriodicWork()).toBe(false);
    await b.renew();
    expect(b.status()).toMatchObject({ leader: true, fence: fence + 1 });
    // a comes back: it is told who holds the lease and runs nothing.
    await a.renew();
    expect(a.runsPeriodicWork()).toBe(false);
  });

  it('a replica that leaves hands the lease over at once and withdraws its announcement', async () => {
    const a = await presence('a', 60_000);
    const b = await presence('b', 60_000);
    await a.join();
    await b.renew();
    expect(b.runsPeriodicWork()).toBe(false);
    await a.leave();
    await b.renew();
    expect(b.runsPeriodicWork()).toBe(true);
    expect((await (await store()).listReplicas()).map((r) => r.id)).toEqual([b.me.id]);
  });

  it('a replica whose store stops answering stops running periodic work before its lease could move', async () => {
    let skew = 0;
    const a = await presence('a', 1000, () => Date.now() + skew);
    await a.renew();
    expect(a.runsPeriodicWork()).toBe(true);
    await redis.kill();
    try {
      await a.renew();
      // Still inside the lease, less its margin: it may go on.
      expect(a.runsPeriodicWork()).toBe(true);
      // Three quarters of the time to live later, another replica could not have it yet, and this one stops.
      skew = 760;
      expect(a.runsPeriodicWork()).toBe(false);
    } finally {
      await redis.restart();
    }
  });
});

describe('the shared periodic work follows the lease', () => {
  it('a missed heartbeat is swept only by the replica holding the lease', async () => {
    const api = await startAgentApiService({
      config: 'agent_api: { lock_scope: repo, heartbeat_ttl_seconds: 1 }\n',
      redisUrl: redis.url,
      // Only the explicit maintenance runs below; the lease is renewed only when asked.
      env: { HEALTH_PROBE_INTERVAL_MS: '600000', PERIODIC_LEASE_MS: '60000' },
    });
    service = api.service;
    const violations = () =>
      dbOf(sqliteOf(service!.runtime)).prepare('SELECT type FROM violations').pluck().all() as string[];
    const agent = (await api.register('sleepy-bot')).client;
    await agent.acquireLock(60, 'acme/api');
    await new Promise((r) => setTimeout(r, 1200));

    // Another replica holds the lease: this one sweeps nothing.
    const other = await store();
    const mine = service.presence.status().holder!;
    await other.releaseLease(PERIODIC_WORK, mine);
    expect(await other.acquireLease(PERIODIC_WORK, 'elsewhere:1', 60_000)).toMatchObject({ held: true });
    await service.presence.renew();
    await service.maintenance();
    expect(violations()).toEqual([]);
    expect(await leaderGauge(service.port)).toBe('0');

    // It leaves: this replica takes the lease and the missed heartbeat is found.
    await other.releaseLease(PERIODIC_WORK, 'elsewhere:1');
    await service.presence.renew();
    await service.maintenance();
    expect(violations()).toEqual(['heartbeat_missed']);
    expect(await leaderGauge(service.port)).toBe('1');
  });
});

it('a Redis key a lease uses is not one an agent lock can reach', async () => {
  const s = await store();
  await s.markRestored();
  expect(await s.acquireLock(`lease:${PERIODIC_WORK}`, 'docs-bot', 5000)).toMatchObject({ acquired: true });
  const raw = new Redis(redis.url);
  try {
    expect(await raw.exists(`lease:${PERIODIC_WORK}`)).toBe(0);
  } finally {
    raw.disconnect();
  }
});
