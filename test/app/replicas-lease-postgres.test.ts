/**
 * The periodic-work lease of replicas on one PostgreSQL ledger lives in the ledger database: a
 * Redis that restarts empty cannot hand it to a second replica while the first still holds it
 * (with the lease in Redis, the chaos run saw both replicas sweep at once).
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ReplicaPresence, thisReplica } from '../../src/app/replicas.js';
import { openPostgresLedger, type PostgresLedger } from '../../src/ledger/postgres/postgres-ledger.js';
import { createLogger } from '../../src/platform/logger.js';
import { MemoryStateStore } from '../../src/state/memory-state-store.js';
import { RedisStateStore } from '../../src/state/redis-state-store.js';
import { PrivatePostgres } from '../helpers/postgres-server.js';
import { PrivateRedis } from '../helpers/redis-server.js';

let pg: PrivatePostgres;
let redis: PrivateRedis;
const closing: { close(): Promise<unknown> }[] = [];

beforeAll(async () => {
  [pg, redis] = await Promise.all([PrivatePostgres.start(), PrivateRedis.start()]);
});
afterAll(async () => {
  for (const c of closing.splice(0)) await c.close();
  await Promise.all([pg?.stop(), redis?.stop()]);
});

async function emptyRedis(): Promise<void> {
  const admin = new Redis(redis.url);
  await admin.flushall();
  admin.disconnect();
}

interface ReplicaOptions {
  /** The Redis it keeps its state in, or `none`: its own process (no REDIS_URL). */
  redisUrl?: string | 'none';
  startedAt?: Date;
  host?: string;
  pid?: number;
}

/** A replica as `agov serve` makes one, on `ledger`, listening on `port`. */
async function replicaOn(
  ledger: PostgresLedger,
  port: string,
  ttlMs: number,
  { redisUrl = redis.url, startedAt = new Date(), host = 'host-1', pid }: ReplicaOptions = {},
): Promise<ReplicaPresence> {
  const state = redisUrl === 'none' ? new MemoryStateStore() : await RedisStateStore.connect(redisUrl);
  closing.push(state);
  // As the service names its ledger: by the ledger's own identity.
  const me = thisReplica({ postgres: `ledger ${await ledger.identity()}`, port }, startedAt, host, pid);
  return new ReplicaPresence(state, me, ttlMs, createLogger('silent'), Date.now, null, {
    registry: ledger.replicas,
    sharedState: redisUrl !== 'none',
  });
}

it('a Redis that restarts empty does not hand the lease to a second replica; it moves only when the holder stops renewing, with a higher fence', {
  timeout: 30_000,
}, async () => {
  const ledger = await openPostgresLedger(await pg.createDatabase());
  closing.push(ledger);
  const a = await replicaOn(ledger, '3001', 800);
  const b = await replicaOn(ledger, '3002', 800);
  await a.renew();
  await b.renew();
  expect([a.runsPeriodicWork(), b.runsPeriodicWork()]).toEqual([true, false]);
  const fence = a.status().fence!;

  // Redis forgets everything (a restart with nothing on disk): the lease is not Redis's to lose.
  await emptyRedis();
  await b.renew();
  expect(b.runsPeriodicWork()).toBe(false);
  expect(b.status().holder).toBe(a.status().holder);
  await a.renew();
  expect(a.status()).toMatchObject({ leader: true, fence });

  // a dies (renews no more, as after a SIGKILL): b takes the lease once it ran out, never before, with the next fence.
  await new Promise((r) => setTimeout(r, 900));
  await b.renew();
  expect(b.status()).toMatchObject({ leader: true, fence: fence + 1 });
  await a.renew();
  expect(a.runsPeriodicWork()).toBe(false);

  // Periodic work runs behind the gate only on the holder.
  const ran: string[] = [];
  await a.periodic('sweep', async () => ran.push('a'));
  await b.periodic('sweep', async () => ran.push('b'));
  expect(ran).toEqual(['b']);
});

it('a replica that leaves hands the lease over at once, and the fence still grows', async () => {
  await emptyRedis();
  const ledger = await openPostgresLedger(await pg.createDatabase());
  closing.push(ledger);
  const a = await replicaOn(ledger, '3001', 60_000);
  const b = await replicaOn(ledger, '3002', 60_000);
  await a.join();
  await b.join();
  const fence = a.status().fence!;
  expect(b.runsPeriodicWork()).toBe(false);
  await a.leave();
  await b.renew();
  expect(b.status()).toMatchObject({ leader: true, fence: fence + 1 });
  await b.leave();
  await a.renew();
  expect(a.status()).toMatchObject({ leader: true, fence: fence + 2 });
});

it('a replica on another Redis than the others on the ledger (another database number of the same server) is refused at start', async () => {
  await emptyRedis();
  const ledger = await openPostgresLedger(await pg.createDatabase());
  closing.push(ledger);
  const a = await replicaOn(ledger, '3001', 400, { startedAt: new Date(Date.now() - 60_000) });
  await a.join();
  // Started later, on database 1 of the same server: its locks would be its own.
  const b = await replicaOn(ledger, '3002', 400, { redisUrl: `${redis.url}/1` });
  await expect(b.join()).rejects.toThrow(
    /serves this PostgreSQL ledger with another state store; every replica needs the same REDIS_URL/,
  );
  await a.leave();
});

it('a replica paused past its lease comes back beside one on another Redis: the one started later stops at its second renewal', async () => {
  await emptyRedis();
  const ledger = await openPostgresLedger(await pg.createDatabase());
  closing.push(ledger);
  const earlier = await replicaOn(ledger, '3001', 60_000, {
    startedAt: new Date(Date.now() - 60_000),
  });
  await earlier.join();
  // Paused (a VM stopped, a long GC) past its announcement: the others no longer see it.
  await ledger.withClient((c) => c.query('DELETE FROM replicas WHERE id = $1', [earlier.me.id]));
  const later = await replicaOn(ledger, '3002', 400, { redisUrl: `${redis.url}/2` });
  await later.join();
  // It wakes up and announces itself again: each finds the other missing from its Redis.
  await earlier.renew();
  const within = (p: Promise<string>) =>
    Promise.race([p, new Promise<string>((r) => setTimeout(() => r('still serving'), 3000))]);
  expect(await within(later.unsafe)).toMatch(
    /serves this PostgreSQL ledger with another state store; every replica needs the same REDIS_URL/,
  );
  expect(await within(earlier.unsafe.then(() => 'stopped'))).toBe('still serving');
  await later.leave();
  await earlier.leave();
});

it('a replica whose clock runs a minute ahead still sees the others, and cannot take their lease early', async () => {
  await emptyRedis();
  const url = await pg.createDatabase();
  const ledger = await openPostgresLedger(url);
  const ahead = await openPostgresLedger(url, () => new Date(Date.now() + 60_000));
  closing.push(ledger, ahead);
  const a = await replicaOn(ledger, '3001', 2000);
  await a.join();
  // Without REDIS_URL, beside a: refused, whatever its clock says.
  const alone = await replicaOn(ahead, '3002', 2000, { redisUrl: 'none' });
  await expect(alone.join()).rejects.toThrow(/several replicas need the same REDIS_URL/);
  // With the shared Redis, it joins, and the lease stays a's.
  const b = await replicaOn(ahead, '3003', 2000);
  await b.join();
  expect([a.runsPeriodicWork(), b.runsPeriodicWork()]).toEqual([true, false]);
  await b.leave();
  await a.leave();
});

it('a replica on a copy of the ledger database (same identity, another database) beside one on the original is refused', async () => {
  await emptyRedis();
  const url = await pg.createDatabase();
  await (await openPostgresLedger(url)).close();
  // A clone (CREATE DATABASE … TEMPLATE, as a restored backup or a copied VM would be).
  const name = `${new URL(url).pathname.slice(1)}_copy`;
  const admin = await openPostgresLedger(pg.url);
  await admin.withClient((c) =>
    c.query(`CREATE DATABASE ${name} TEMPLATE ${new URL(url).pathname.slice(1)}`),
  );
  await admin.close();
  const original = await openPostgresLedger(url);
  const copy = await openPostgresLedger(url.replace(/\/[^/]+$/, `/${name}`));
  closing.push(original, copy);
  expect(await copy.identity()).toBe(await original.identity());
  const a = await replicaOn(original, '3001', 400, { startedAt: new Date(Date.now() - 1000) });
  await a.join();
  const b = await replicaOn(copy, '3002', 400);
  await expect(b.join()).rejects.toThrow(/serves a copy of this PostgreSQL ledger/);
  await a.leave();
});

it('a second replica under the same name (the same host name and PORT) is refused while the first renews; a restart after the first died is not', async () => {
  await emptyRedis();
  const ledger = await openPostgresLedger(await pg.createDatabase());
  closing.push(ledger);
  const presence = (pid: number, ttlMs: number) => replicaOn(ledger, '3000', ttlMs, { host: 'ubuntu', pid });
  // Alive: renews every 100 ms.
  const first = await presence(1111, 400);
  await first.join();
  const twin = await presence(2222, 400);
  await expect(twin.join()).rejects.toThrow(
    /another replica under this one's name \(host ubuntu, pid 1111, .*\) serves this ledger: the same host name and PORT/,
  );
  await first.leave();
  // Killed (renews no more; its announcement has not run out yet): its restart takes its place.
  const killed = await presence(3333, 60_000);
  await killed.join();
  const restarted = await presence(4444, 400);
  await expect(restarted.join()).resolves.toBeUndefined();
  await restarted.leave();
});
