/**
 * The asynchronous ledger contract, run against both engines: SQLite (the adapter over the
 * synchronous ledger, a second "replica" being a second connection to the same file) and
 * PostgreSQL (a private server; a second replica being a second pool). Hostile cases first.
 */
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LedgerEntry, LedgerEntryInput } from '../../src/core/ledger-entries.js';
import type { AsyncLedger } from '../../src/ledger/async-ledger.js';
import { openLedger } from '../../src/ledger/ledger.js';
import type { OutboxMessageInput } from '../../src/ledger/outbox.js';
import { openPostgresLedger } from '../../src/ledger/postgres/postgres-ledger.js';
import { SqliteAsyncLedger } from '../../src/ledger/sqlite-async-ledger.js';
import { sqlite, tempDir } from '../helpers/agov.js';
import { PrivatePostgres } from '../helpers/postgres-server.js';

let server: PrivatePostgres;
beforeAll(async () => {
  server = await PrivatePostgres.start();
});
afterAll(async () => {
  await server?.stop();
});

/** One ledger database, opened by as many replicas as a test asks for. */
interface Fixture {
  replica(): Promise<AsyncLedger>;
  /** Edits entry `seq`'s payload as a superuser would: with the append-only trigger out of the way. */
  tamper(seq: number): Promise<void>;
  /** Runs `sql` as the application could (triggers in place); the error message, or '' if it passed. */
  tryChange(sql: string): Promise<string>;
  /** Makes the database fail any outbox insert whose payload says "boom", after the entry's insert. */
  sabotageOutbox(): Promise<void>;
}

type Clock = { now: () => Date; advance: (ms: number) => void };

function sqliteFixture(clock: Clock): Fixture {
  const path = join(tempDir(), 'ledger.db');
  const run = (sql: string) => sqlite(path, sql).stderr;
  return {
    replica: async () => new SqliteAsyncLedger(openLedger(path, {}, clock.now), clock.now),
    tamper: async (seq) => {
      run(
        `DROP TRIGGER ledger_entries_no_update; UPDATE ledger_entries SET payload = replace(payload, 'k', 'K') WHERE seq = ${seq};`,
      );
    },
    tryChange: async (sql) => run(sql),
    sabotageOutbox: async () => {
      run(
        "CREATE TRIGGER boom BEFORE INSERT ON outbox WHEN NEW.payload LIKE '%boom%' BEGIN SELECT RAISE(ABORT, 'boom'); END;",
      );
    },
  };
}

async function postgresFixture(clock: Clock): Promise<Fixture> {
  const url = await server.createDatabase();
  const run = async (sql: string): Promise<string> => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(sql);
      return '';
    } catch (error) {
      return (error as Error).message;
    } finally {
      await client.end();
    }
  };
  return {
    replica: () => openPostgresLedger(url, clock.now),
    tamper: async (seq) => {
      await run(
        `ALTER TABLE ledger_entries DISABLE TRIGGER ledger_entries_no_update;
         UPDATE ledger_entries SET payload = replace(payload, 'k', 'K') WHERE seq = ${seq};
         ALTER TABLE ledger_entries ENABLE TRIGGER ledger_entries_no_update;`,
      );
    },
    tryChange: run,
    sabotageOutbox: async () => {
      await run(
        `CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN IF NEW.payload LIKE '%boom%' THEN RAISE EXCEPTION 'boom'; END IF; RETURN NEW; END $$;
         CREATE TRIGGER boom BEFORE INSERT ON outbox FOR EACH ROW EXECUTE FUNCTION boom();`,
      );
    },
  };
}

const engines: Array<[string, (clock: Clock) => Promise<Fixture>]> = [
  ['sqlite', async (clock) => sqliteFixture(clock)],
  ['postgres', postgresFixture],
];

const entry = (key: string): LedgerEntryInput => ({
  type: 'finding.resolved',
  agentId: null,
  actor: 'test',
  payload: { key },
});

const message = (key: string, orderingKey = key, payload: unknown = { key }): OutboxMessageInput => ({
  target: 'github',
  kind: 'check_run.upsert',
  idempotencyKey: key,
  orderingKey,
  payload,
});

const keyOf = (e: LedgerEntry) => (e.payload as { key?: string }).key;

function testClock(): Clock {
  let at = Date.parse('2026-11-27T10:00:00.000Z');
  return { now: () => new Date(at), advance: (ms) => (at += ms) };
}

describe.each(engines)('AsyncLedger contract: %s', (_engine, open) => {
  let clock: Clock;
  let fixture: Fixture;
  let a: AsyncLedger;
  let b: AsyncLedger;
  beforeEach(async () => {
    clock = testClock();
    fixture = await open(clock);
    a = await fixture.replica();
    b = await fixture.replica();
  });
  afterEach(async () => {
    await a?.close();
    await b?.close();
  });

  it('appends from two replicas at once form one chain: no fork, no gap, each group contiguous', async () => {
    // Each replica writes one transaction after another (single entries and groups of three), both
    // at once: their transactions interleave on the database.
    const writer = async (replica: AsyncLedger, name: string) => {
      const groups = [];
      for (let i = 0; i < 15; i++) {
        const inputs =
          i % 3 === 0
            ? [entry(`${name}${i}.1`), entry(`${name}${i}.2`), entry(`${name}${i}.3`)]
            : [entry(`${name}${i}`)];
        groups.push(await replica.appendAll(inputs));
      }
      return groups;
    };
    const groups = (await Promise.all([writer(a, 'a'), writer(b, 'b')])).flat();
    const seqs = groups.flat().map((e) => e.seq);
    expect(seqs.toSorted((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    for (const group of groups) expect(group.map((e) => e.seq - group[0]!.seq)).toEqual([...group.keys()]);
    const verdict = await b.verifyChain();
    expect(verdict).toMatchObject({ ok: true, checked: 50 });
    expect(await a.head()).toEqual(verdict.ok ? verdict.head : null);
    const stored = await a.entriesAfter(0, 100);
    for (const [i, e] of stored.entries()) if (i > 0) expect(e.prevHash).toBe(stored[i - 1]!.hash);
  });

  it('an append decided in the transaction sees what was committed before it, and nothing slips in between', async () => {
    // Each round: A decides allow/deny from whether round i's revocation is in the ledger, while B
    // appends that revocation and other entries at the same moment (started from inside the decision).
    const readAt: Record<string, number> = {};
    const round = async (i: number) => {
      let b1: Promise<unknown> | undefined;
      const decided = a.appendDecided(async (view) => {
        b1 ??= Promise.all([b.append(entry(`revoked:${i}`)), b.append(entry(`noise:${i}`))]);
        readAt[i] = view.head.seq;
        const seen = await view.entriesAfter(0, 1000);
        const revoked = seen.some((e) => keyOf(e) === `revoked:${i}`);
        return [entry(`${revoked ? 'deny' : 'allow'}:${i}`)];
      });
      const [decision] = await decided;
      await b1;
      return decision!;
    };
    const decisions = await Promise.all(Array.from({ length: 8 }, (_, i) => round(i)));
    const chain = await b.entriesAfter(0, 1000);
    for (const [i, decision] of decisions.entries()) {
      expect(decision.seq).toBe(readAt[i]! + 1);
      const revokedAt = chain.find((e) => keyOf(e) === `revoked:${i}`)!.seq;
      expect(keyOf(decision)).toBe(`${revokedAt < decision.seq ? 'deny' : 'allow'}:${i}`);
    }
    expect(await a.verifyChain()).toMatchObject({ ok: true, checked: 24 });
  });

  it('a decision that throws, or decides an invalid entry, appends nothing and takes nothing else down', async () => {
    const [thrown, invalid, plain] = await Promise.allSettled([
      a.appendDecided(() => {
        throw new Error('cannot decide');
      }),
      a.appendDecided(() => [{ ...entry('k'), payload: { nope: 1 } } as unknown as LedgerEntryInput]),
      a.append(entry('k1')),
    ]);
    expect(thrown).toMatchObject({ status: 'rejected', reason: { message: 'cannot decide' } });
    expect(invalid).toMatchObject({
      status: 'rejected',
      reason: { message: expect.stringMatching(/invalid finding.resolved entry/) },
    });
    expect(plain).toMatchObject({ status: 'fulfilled', value: { seq: 1 } });
    expect(await b.verifyChain()).toMatchObject({ ok: true, checked: 1 });
  });

  it('a row edited behind the trigger is found by verify, naming the first bad seq', async () => {
    await a.appendAll([entry('k1'), entry('k2'), entry('k3'), entry('k4'), entry('k5')]);
    expect(await fixture.tryChange("UPDATE ledger_entries SET actor = 'mallory' WHERE seq = 2;")).toMatch(
      /append-only: updates are refused/,
    );
    expect(await fixture.tryChange('DELETE FROM ledger_entries WHERE seq = 5;')).toMatch(
      /append-only: deletes are refused/,
    );
    expect(
      await fixture.tryChange(
        "INSERT INTO ledger_entries VALUES (9, 't', 'finding.resolved', NULL, 'x', '{}', 'bad', 'bad');",
      ),
    ).toMatch(/must extend the chain head/);
    expect(await a.verifyChain()).toMatchObject({ ok: true, checked: 5 });
    await fixture.tamper(3);
    expect(await b.verifyChain()).toEqual({
      ok: false,
      checked: 2,
      firstBadSeq: 3,
      reason: 'entry 3 was changed after it was written',
    });
  });

  it('a delivery id delivered twice, to two replicas at once, is recorded once', async () => {
    const delivery = {
      source: 'github' as const,
      deliveryId: 'd-1',
      event: 'pull_request',
      action: 'opened',
      repository: 'acme/app',
      payloadText: '{}',
      outbox: [message('queued:d-1')],
    };
    const results = await Promise.all([
      a.inbox.record(delivery),
      b.inbox.record(delivery),
      a.inbox.record(delivery),
    ]);
    expect(results.filter((r) => r !== null)).toHaveLength(1);
    const recorded = results.find((r) => r !== null)!;
    expect(recorded).toMatchObject({ seq: 1, type: 'delivery.received', payload: { deliveryId: 'd-1' } });
    expect((await a.head()).seq).toBe(1);
    expect((await b.outbox.forEntry(1)).map((m) => m.idempotencyKey)).toEqual(['queued:d-1']);
    expect(await b.inbox.record(delivery)).toBeNull();
  });

  it('two claimers never hold the same outbox message', async () => {
    await a.append(entry('k'), { outbox: Array.from({ length: 20 }, (_, i) => message(`m${i}`)) });
    const [first, second] = await Promise.all([
      a.outbox.claim('github', { claimer: 'replica-a', leaseMs: 30_000, limit: 15 }),
      b.outbox.claim('github', { claimer: 'replica-b', leaseMs: 30_000, limit: 15 }),
    ]);
    const ids = [...first, ...second].map((m) => m.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toHaveLength(20);
    expect(await b.outbox.claim('github', { claimer: 'replica-c', leaseMs: 30_000 })).toEqual([]);
    expect(await b.outbox.complete(first[0]!.id, 'replica-b')).toBe(false);
  });

  it('a claimer that dies has its message taken over once the lease runs out, and can no longer complete it', async () => {
    await a.append(entry('k'), { outbox: [message('m1')] });
    const [taken] = await a.outbox.claim('github', { claimer: 'replica-a', leaseMs: 30_000 });
    expect(await b.outbox.claim('github', { claimer: 'replica-b', leaseMs: 30_000 })).toEqual([]);
    clock.advance(30_001);
    const [takenOver] = await b.outbox.claim('github', { claimer: 'replica-b', leaseMs: 30_000 });
    expect(takenOver?.id).toBe(taken!.id);
    expect(await a.outbox.complete(taken!.id, 'replica-a')).toBe(false);
    expect(await b.outbox.complete(taken!.id, 'replica-b')).toBe(true);
    expect((await a.outbox.forEntry(1)).map((m) => m.status)).toEqual(['delivered']);
  });

  it('an entry whose transaction is rolled back leaves no outbox message, and the chain goes on', async () => {
    await a.append(entry('k0'));
    await fixture.sabotageOutbox();
    await expect(a.append(entry('k1'), { outbox: [message('m1', 'm1', { note: 'boom' })] })).rejects.toThrow(
      /boom/,
    );
    expect((await b.head()).seq).toBe(1);
    expect(await b.outbox.forEntry(2)).toEqual([]);
    expect(await b.outbox.claim('github', { claimer: 'replica-b', leaseMs: 30_000 })).toEqual([]);
    const next = await b.append(entry('k2'), { outbox: [message('m2')] });
    expect(next.seq).toBe(2);
    expect((await a.outbox.forEntry(2)).map((m) => m.idempotencyKey)).toEqual(['m2']);
    expect(await a.verifyChain()).toMatchObject({ ok: true, checked: 2 });
  });

  it('a group the database refuses in a shared commit fails alone; the others commit', async () => {
    await a.append(entry('k0'));
    await fixture.sabotageOutbox();
    const [bad, good, plain] = await Promise.allSettled([
      a.append(entry('k1'), { outbox: [message('m1', 'm1', { note: 'boom' })] }),
      a.append(entry('k2'), { outbox: [message('m2')] }),
      a.append(entry('k3')),
    ]);
    expect(bad).toMatchObject({ status: 'rejected', reason: { message: expect.stringMatching(/boom/) } });
    expect([good, plain].map((r) => (r.status === 'fulfilled' ? r.value.payload : r.reason))).toEqual([
      { key: 'k2' },
      { key: 'k3' },
    ]);
    expect(await b.verifyChain()).toMatchObject({ ok: true, checked: 3 });
    const m2 = (await b.entriesAfter(0)).find((e) => JSON.stringify(e.payload) === '{"key":"k2"}')!;
    expect((await b.outbox.forEntry(m2.seq)).map((m) => m.idempotencyKey)).toEqual(['m2']);
  });

  it('a follower stepped by two replicas at once handles each entry exactly once', async () => {
    for (let i = 0; i < 6; i++) await a.appendAll(Array.from({ length: 10 }, (_, j) => entry(`k${i}.${j}`)));
    const handled: number[] = [];
    const handle = (e: LedgerEntry) => {
      handled.push(e.seq);
      return [message(`follow:${e.seq}`)];
    };
    const follow = async (replica: AsyncLedger) => {
      // Until the follower has caught up: a step that another replica's step holds off returns 0.
      while ((await replica.followers.position('test-follower')) < 60)
        await replica.followers.step('test-follower', handle, 7);
    };
    await Promise.all([follow(a), follow(b), follow(a), follow(b)]);
    expect(handled.toSorted((x, y) => x - y)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect((await b.outbox.forEntry(60)).map((m) => m.idempotencyKey)).toEqual(['follow:60']);
  });

  it('a follower whose handler fails queues nothing and keeps its position', async () => {
    await a.appendAll([entry('k1'), entry('k2'), entry('k3')]);
    const failing = (e: LedgerEntry) => {
      if (e.seq === 3) throw new Error('crash while handling entry 3');
      return [message(`follow:${e.seq}`)];
    };
    await expect(a.followers.step('test-follower', failing)).rejects.toThrow(/crash while handling/);
    expect(await b.followers.position('test-follower')).toBe(0);
    expect(await b.outbox.forEntry(1)).toEqual([]);
    expect(await b.followers.step('test-follower', (e) => [message(`follow:${e.seq}`)])).toBe(3);
    expect((await a.outbox.forEntry(1)).map((m) => m.idempotencyKey)).toEqual(['follow:1']);
    expect(await a.followers.position('test-follower')).toBe(3);
  });

  it('a follower position moves only from where it was: two replicas advancing at once, one wins', async () => {
    expect(await a.followers.position('consequences-test')).toBe(0);
    expect(await a.followers.advance('consequences-test', 0, 5)).toBe(true);
    expect(await b.followers.advance('consequences-test', 0, 7)).toBe(false);
    const raced = await Promise.all([
      a.followers.advance('consequences-test', 5, 9),
      b.followers.advance('consequences-test', 5, 9),
    ]);
    expect(raced.filter(Boolean)).toHaveLength(1);
    expect(await b.followers.position('consequences-test')).toBe(9);
  });

  it('outbox order holds per ordering key; a retried message waits for its time', async () => {
    await a.append(entry('k'), {
      outbox: [message('m1', 'pr-1'), message('m2', 'pr-1'), message('m3', 'pr-2')],
    });
    await a.append(entry('k2'), { outbox: [message('m1', 'pr-1')] });
    const claimed = await a.outbox.claim('github', { claimer: 'a', leaseMs: 30_000 });
    expect(claimed.map((m) => m.idempotencyKey)).toEqual(['m1', 'm3']);
    expect(await a.outbox.complete(claimed[1]!.id, 'a')).toBe(true);
    expect(
      await a.outbox.retry(claimed[0]!.id, 'a', 'HTTP 502', new Date(clock.now().getTime() + 60_000)),
    ).toBe(true);
    expect(await b.outbox.claim('github', { claimer: 'b', leaseMs: 30_000 })).toEqual([]);
    clock.advance(60_000);
    const again = await b.outbox.claim('github', { claimer: 'b', leaseMs: 30_000 });
    expect(again.map((m) => [m.idempotencyKey, m.attempts, m.lastError])).toEqual([['m1', 1, 'HTTP 502']]);
    expect(await b.outbox.complete(again[0]!.id, 'b')).toBe(true);
    expect(
      (await b.outbox.claim('github', { claimer: 'b', leaseMs: 30_000 })).map((m) => m.idempotencyKey),
    ).toEqual(['m2']);
  });

  it('reads entries after a seq, in order, with the time of the injected clock', async () => {
    await a.appendAll([entry('k1'), entry('k2'), entry('k3')]);
    const after = await b.entriesAfter(1, 10);
    expect(after.map((e) => [e.seq, e.payload])).toEqual([
      [2, { key: 'k2' }],
      [3, { key: 'k3' }],
    ]);
    expect(after[0]!.ts).toBe('2026-11-27T10:00:00.000Z');
  });

  it('refuses an entry its type does not allow, writing nothing', async () => {
    await expect(
      a.append({ ...entry('k'), payload: { nope: true } } as unknown as LedgerEntryInput),
    ).rejects.toThrow(/invalid finding.resolved entry/);
    expect((await a.head()).seq).toBe(0);
  });
});

it('the same entries at the same instants have the same hashes on both engines', async () => {
  const heads = [];
  for (const [, open] of engines) {
    const fixture = await open(testClock());
    const ledger = await fixture.replica();
    await ledger.appendAll([entry('k1 é 🙂 "quoted" \\ \u2028'), entry('k2')]);
    heads.push(await ledger.head());
    await ledger.close();
  }
  expect(heads[0]).toEqual(heads[1]);
  expect(heads[0]!.seq).toBe(2);
});
