/**
 * The asynchronous ledger contract, run against both engines: SQLite (the adapter over the
 * synchronous ledger, a second "replica" being a second connection to the same file) and
 * PostgreSQL (a private server; a second replica being a second pool). Hostile cases first.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LedgerEntry, LedgerEntryInput } from '../../src/core/ledger-entries.js';
import { type AsyncLedger, FollowerMovedError, type LedgerView } from '../../src/ledger/async-ledger.js';
import { openLedger } from '../../src/ledger/ledger.js';
import { LedgerHeartbeat } from '../../src/ledger/ledger-heartbeat.js';
import { pgProjectionColumns } from '../../src/ledger/postgres/pg-projection-schema.js';
import { openPostgresLedger } from '../../src/ledger/postgres/postgres-ledger.js';
import { PROJECTION_TABLES } from '../../src/ledger/projections.js';
import { agentsAsync } from '../../src/ledger/queries/agents.js';
import { SqliteAsyncLedger } from '../../src/ledger/sqlite-async-ledger.js';
import { sqlite, tempDir } from '../helpers/agov.js';
import { entry, keyOf, message, registered, revoked } from '../helpers/entries.js';
import { PrivatePostgres } from '../helpers/postgres-server.js';
import { projectionHistory } from './projection-history.js';

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
  /** Takes the sabotage away again (SQLite's verify refuses a trigger its migrations do not create). */
  repairOutbox(): Promise<void>;
  /** Every projection table's rows, as plain values (numbers as numbers), in key order. */
  projectionRows(): Promise<ProjectionRows>;
}

type Row = Record<string, unknown>;
type ProjectionRows = Record<string, Row[]>;

/** Rows in key order: numbers by value, text by code unit (as SQLite compares it). */
function inKeyOrder(rows: Row[], key: readonly string[]): Row[] {
  const compare = (a: unknown, b: unknown) =>
    typeof a === 'number' && typeof b === 'number'
      ? a - b
      : String(a) < String(b)
        ? -1
        : String(a) > String(b)
          ? 1
          : 0;
  return rows.toSorted((x, y) => key.reduce((c, k) => c || compare(x[k], y[k]), 0));
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
    repairOutbox: async () => {
      run('DROP TRIGGER boom');
    },
    projectionRows: async () => {
      const db = new Database(path, { readonly: true });
      try {
        const tables = PROJECTION_TABLES.map(({ table, key }) => [
          table,
          inKeyOrder(db.prepare(`SELECT * FROM ${table}`).all() as Row[], key),
        ]);
        return Object.fromEntries(tables);
      } finally {
        db.close();
      }
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
    repairOutbox: async () => {
      await run('DROP TRIGGER boom ON outbox; DROP FUNCTION boom();');
    },
    projectionRows: async () => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        const tables: ProjectionRows = {};
        for (const { table, key } of PROJECTION_TABLES) {
          // to_jsonb: bigint and double precision come back as numbers, as better-sqlite3 gives them.
          const { rows } = await client.query<{ row: Row }>(`SELECT to_jsonb(t) AS row FROM ${table} AS t`);
          tables[table] = inKeyOrder(
            rows.map((r) => r.row),
            key,
          );
        }
        return tables;
      } finally {
        await client.end();
      }
    },
  };
}

const engines: Array<[string, (clock: Clock) => Promise<Fixture>]> = [
  ['sqlite', async (clock) => sqliteFixture(clock)],
  ['postgres', postgresFixture],
];

/** Every entry, asked for a page at a time until none come back (a page may be short). */
async function wholeChain(ledger: AsyncLedger): Promise<LedgerEntry[]> {
  const chain: LedgerEntry[] = [];
  for (
    let page = await ledger.entriesAfter(0);
    page.length > 0;
    page = await ledger.entriesAfter(chain.at(-1)!.seq)
  )
    chain.push(...page);
  return chain;
}

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

  it("a read through the view's reader sees a revocation committed before the decision, and none after", async () => {
    const [agent, revoke] = [registered, revoked];
    const ids = Array.from({ length: 6 }, (_, i) => `bot-${i}`);
    await a.appendAll([...ids.map(agent), agent('bot-before'), agent('bot-same')]);
    await b.append(revoke('bot-before'));
    // Each round: A decides from the agent's status read in SQL through the view, while B revokes
    // that agent at the same moment (started from inside the decision).
    const round = async (id: string) => {
      let revoked: Promise<LedgerEntry> | undefined;
      const [decision] = await a.appendDecided(async (view) => {
        revoked ??= b.append(revoke(id));
        const before = await agentsAsync.agentStatus(view.reader, 'bot-before');
        const status = await agentsAsync.agentStatus(view.reader, id);
        return [entry(`${before}:${status}:${id}`)];
      });
      return { decision: decision!, revokedAt: (await revoked!).seq };
    };
    for (const { decision, revokedAt } of await Promise.all(ids.map(round))) {
      const id = keyOf(decision)!.split(':')[2];
      expect(keyOf(decision)).toBe(`revoked:${revokedAt < decision.seq ? 'revoked' : 'active'}:${id}`);
    }
    // A revocation asked of the same replica at once (on PostgreSQL it shares the decision's
    // commit, staged before it): seen when it comes first in the chain.
    const [sameCommit, decided] = await Promise.all([
      a.append(revoke('bot-same')),
      a.appendDecided(async (view) => [entry(`${await agentsAsync.agentStatus(view.reader, 'bot-same')}`)]),
    ]);
    expect(keyOf(decided[0]!)).toBe(sameCommit.seq < decided[0]!.seq ? 'revoked' : 'active');
    expect(await a.verifyChain()).toMatchObject({ ok: true, checked: 23 });
  });

  it('the calls a decision chooses are queued with its last entry, after those the append named; none without entries', async () => {
    const [nothing, decided] = await Promise.all([
      a.appendDecided(() => ({ entries: [], outbox: [message('never')] })),
      a.appendDecided(
        async (view) => ({
          entries: [entry(`first:${view.head.seq}`), entry('second')],
          outbox: [message('chosen')],
        }),
        { outbox: [message('named')] },
      ),
    ]);
    expect(nothing).toEqual([]);
    expect(decided.map((e) => e.seq)).toEqual([1, 2]);
    expect(await b.outbox.forEntry(1)).toEqual([]);
    expect((await b.outbox.forEntry(2)).map((m) => m.idempotencyKey)).toEqual(['named', 'chosen']);
    const claimed = await b.outbox.claim('github', { claimer: 'b', leaseMs: 60_000, limit: 10 });
    expect(claimed.map((m) => m.idempotencyKey)).not.toContain('never');
  });

  it('a follow-up naming an entry not in the ledger refuses its decision, writing nothing; the append beside it commits', async () => {
    await a.appendAll([entry('k1'), entry('k2')]);
    const [ahead, zero, fraction, plain] = await Promise.allSettled([
      a.appendDecided((view) => ({
        entries: [entry('with-ahead')],
        outbox: [message('with-ahead')],
        followUps: [
          { seq: 1, message: message('fine') },
          { seq: view.head.seq + 1, message: message('ahead') },
        ],
      })),
      a.appendDecided(() => ({ entries: [], followUps: [{ seq: 0, message: message('zero') }] })),
      a.appendDecided(() => ({ entries: [], followUps: [{ seq: 1.5, message: message('fraction') }] })),
      a.append(entry('k3')),
    ]);
    for (const refused of [ahead, zero, fraction])
      expect(refused).toMatchObject({
        status: 'rejected',
        reason: {
          message: expect.stringMatching(/^follow-up \w+ names entry [\d.]+, which is not in the ledger/),
        },
      });
    expect(plain).toMatchObject({ status: 'fulfilled', value: { seq: 3 } });
    expect((await b.entriesAfter(0)).map(keyOf)).toEqual(['k1', 'k2', 'k3']);
    expect(await b.outbox.pendingCount()).toBe(0);
  });

  it('a follow-up whose key was queued before is skipped: the first message stays as it was', async () => {
    await a.append(entry('k1'), { outbox: [message('start', 'check', { first: true })] });
    await a.append(entry('k2'));
    const appended = await b.appendDecided(() => ({
      entries: [],
      followUps: [
        { seq: 2, message: message('start', 'check', { first: false }) },
        { seq: 2, message: message('new', 'check') },
      ],
    }));
    expect(appended).toEqual([]);
    expect((await a.outbox.forEntry(1)).map((m) => [m.idempotencyKey, m.payload])).toEqual([
      ['start', { first: true }],
    ]);
    expect((await a.outbox.forEntry(2)).map((m) => m.idempotencyKey)).toEqual(['new']);
  });

  it('follow-ups commit with nothing appended, against the entry they name, from what the decision read', async () => {
    const [first] = await a.appendAll([entry('cause'), entry('other')]);
    const head = await a.head();
    const read: number[] = [];
    const appended = await b.appendDecided(async (view) => {
      const seen = await view.entriesAfter(0);
      const cause = seen.find((e) => keyOf(e) === 'cause')!;
      read.push(cause.seq);
      return { entries: [], followUps: [{ seq: cause.seq, message: message('later', 'check') }] };
    });
    expect(appended).toEqual([]);
    expect(await a.head()).toEqual(head);
    expect(read.at(-1)).toBe(first!.seq);
    expect((await a.outbox.forEntry(first!.seq)).map((m) => m.idempotencyKey)).toEqual(['later']);
    const claimed = await a.outbox.claim('github', { claimer: 'a', leaseMs: 60_000 });
    expect(claimed.map((m) => [m.seq, m.idempotencyKey])).toEqual([[first!.seq, 'later']]);
    expect(await a.verifyChain()).toMatchObject({ ok: true, checked: 2 });
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

  it('a projection row edited, deleted or forged behind the ledger is found by verify, naming its table and key', async () => {
    const history = projectionHistory();
    await a.appendAll(history);
    // A table named like verify's replay, in the ledger's own schema, is not the replay.
    expect(await fixture.tryChange('CREATE TABLE agov_replay_violations (seq integer);')).toBe('');
    expect(await b.verify()).toMatchObject({
      ok: true,
      checked: history.length,
      tables: PROJECTION_TABLES.map((t) => t.table),
    });
    // Each tamper is in a table verify compares before the last one's: each is the first found.
    const tampers: [string, object][] = [
      [
        `INSERT INTO approvals (seq, repository, number, approver, verdict, gate, head_sha, diff_hash, policy_version, source, ts)
         VALUES (99, 'acme/web', 1, 'mallory', 'approve', NULL, 'abc', 'd', 'p', 'slack', '2026-11-27T10:00:00.000Z');`,
        {
          firstBadSeq: 99,
          reason: 'approvals row seq=99 is not in the chain',
          projection: { table: 'approvals', key: 'seq=99' },
        },
      ],
      [
        'DELETE FROM violations WHERE seq = 7;',
        {
          firstBadSeq: 7,
          reason: 'violations row seq=7 is missing: the chain wrote it',
          projection: { table: 'violations', key: 'seq=7' },
        },
      ],
      [
        "UPDATE agent_metrics SET status = 'active', violations_total = 0 WHERE agent_id = 'docs-bot';",
        {
          firstBadSeq: 0,
          reason:
            'agent_metrics row agent_id=docs-bot differs from the chain: status is "active", the chain says "suspended"; violations_total is 0, the chain says 2',
          projection: { table: 'agent_metrics', key: 'agent_id=docs-bot' },
        },
      ],
      [
        'DELETE FROM agent_actions WHERE seq = 2;',
        {
          firstBadSeq: 2,
          reason: 'agent_actions row agent_id=docs-bot, seq=2 is missing: the chain wrote it',
          projection: { table: 'agent_actions', key: 'agent_id=docs-bot, seq=2' },
        },
      ],
    ];
    for (const [sql, found] of tampers) {
      expect(await fixture.tryChange(sql)).toBe('');
      expect(await a.verify()).toEqual({ ok: false, checked: history.length, ...found });
    }
  });

  it('an append rolled back leaves no projection row; the append beside it in the commit keeps its own', async () => {
    const [registered, ...rest] = projectionHistory();
    await a.append(registered!);
    const before = await fixture.projectionRows();
    await fixture.sabotageOutbox();
    const violation = rest.find((e) => e.type === 'violation.recorded')!;
    const merged = rest.find((e) => e.type === 'pr.merged')!;
    const [bad, good] = await Promise.allSettled([
      a.append(violation, { outbox: [message('m1', 'm1', { note: 'boom' })] }),
      a.append(merged),
    ]);
    expect(bad).toMatchObject({ status: 'rejected', reason: { message: expect.stringMatching(/boom/) } });
    expect(good).toMatchObject({ status: 'fulfilled', value: { seq: 2 } });
    const after = await fixture.projectionRows();
    expect(after.violations).toEqual([]);
    expect(after.agent_actions!.map((r) => [r.seq, r.type])).toEqual([
      [1, 'agent.registered'],
      [2, 'pr.merged'],
    ]);
    expect(after.agent_metrics).toEqual([
      { ...before.agent_metrics![0], merged_prs_at_tier: 1, merged_prs_total: 1, violations_total: 0 },
    ]);
    await fixture.repairOutbox();
    expect(await b.verify()).toMatchObject({ ok: true, checked: 2 });
  });

  it('two replicas appending at once leave the projections a replay of the chain writes', async () => {
    const shared = projectionHistory('shared-bot');
    await a.append(shared[0]!);
    // Both replicas change the shared agent's metrics row at once: violations, merges, tier moves.
    const hits = shared.filter((e) =>
      ['violation.recorded', 'pr.merged', 'agent.tier_changed'].includes(e.type),
    );
    const writer = async (replica: AsyncLedger, agent: string) => {
      for (const [i, input] of projectionHistory(agent).entries())
        await replica.appendAll(i % 4 === 0 ? [input, ...hits] : [input]);
    };
    await Promise.all([writer(a, 'a-bot'), writer(b, 'b-bot')]);
    const head = await a.head();
    expect(await b.verify()).toMatchObject({ ok: true, checked: head.seq });
    const rows = await fixture.projectionRows();
    const groups = 2 * Math.ceil(shared.length / 4);
    expect(rows.agent_metrics!.find((r) => r.agent_id === 'shared-bot')).toMatchObject({
      violations_total: 2 * groups,
      merged_prs_total: groups,
    });
    // The chain appended again, in order, into a new ledger: the same rows.
    const again = await open(clock);
    const replayed = await again.replica();
    const chain = await wholeChain(a);
    await replayed.appendAll(
      chain.map(
        ({ type, agentId, actor, payload }) => ({ type, agentId, actor, payload }) as LedgerEntryInput,
      ),
    );
    expect(await again.projectionRows()).toEqual(rows);
    await replayed.close();
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

  it('stored deliveries are worked oldest first: taken with their payload, retried when due, done or failed for good', async () => {
    const stored = (id: string, n: number | string) => ({
      source: 'github' as const,
      deliveryId: id,
      event: 'pull_request',
      action: 'opened',
      repository: 'Acme/App',
      payloadText: JSON.stringify({ repository: { full_name: 'Acme/App' }, pull_request: { number: n } }),
    });
    for (const [id, n] of [
      ['d-1', 1],
      ['d-2', 2],
      ['d-3', '3; DROP TABLE inbox'],
    ] as const)
      await a.inbox.record(stored(id, n));
    const queue = a.inbox.queue('replica-a', 30_000);
    const other = b.inbox.queue('replica-b', 30_000);
    expect((await queue.dueHeads('github', 10)).map((d) => [d.deliveryId, d.seq])).toEqual([
      ['d-1', 1],
      ['d-2', 2],
      ['d-3', 3],
    ]);
    expect(await queue.pullRequestOf('d-1')).toBe('acme/app#1');
    // A number that is not one names no PR: it runs alone.
    expect(await queue.pullRequestOf('d-3')).toBeNull();
    expect(await queue.pullRequestOf('nope')).toBeNull();
    expect(await queue.take('d-1')).toMatchObject({
      deliveryId: 'd-1',
      attempts: 0,
      payload: { pull_request: { number: 1 } },
    });
    await queue.markDone('d-1');
    await queue.markRetry('d-2', 'HTTP 502', new Date(clock.now().getTime() + 60_000));
    await queue.markFailed('d-3', 'pull_request.number: expected a number');
    expect(await queue.take('d-1')).toBeNull();
    expect(await queue.anyDue('github')).toBe(false);
    expect(await other.pendingCount('github')).toBe(1);
    clock.advance(60_000);
    expect((await other.dueHeads('github', 10)).map((d) => d.deliveryId)).toEqual(['d-2']);
    expect(await other.take('d-2')).toMatchObject({ attempts: 1 });
  });

  it("on PostgreSQL two replicas never work the same stored delivery at once; a dead one's are taken over after the lease", async () => {
    // SQLite is served by one process (a second `agov serve` on the file is refused): its worker's
    // in-flight set is the claim.
    if (a.engine !== 'postgres') return;
    for (let i = 0; i < 12; i++)
      await a.inbox.record({
        source: 'github',
        deliveryId: `d-${i}`,
        event: 'push',
        action: null,
        repository: 'acme/app',
        payloadText: '{}',
      });
    const [one, two] = [a.inbox.queue('replica-a', 30_000), b.inbox.queue('replica-b', 30_000)];
    const [x, y] = await Promise.all([one.dueHeads('github', 8), two.dueHeads('github', 8)]);
    const ids = [...x, ...y].map((d) => d.deliveryId);
    expect(new Set(ids).size).toBe(12);
    expect(ids).toHaveLength(12);
    // Asking again renews what a replica holds, and takes nothing of the other's.
    expect((await one.dueHeads('github', 20)).map((d) => d.deliveryId).toSorted()).toEqual(
      x.map((d) => d.deliveryId).toSorted(),
    );
    clock.advance(30_000);
    // Replica A died (its lease ran out): B takes its deliveries over.
    expect((await two.dueHeads('github', 20)).map((d) => d.deliveryId).toSorted()).toEqual(ids.toSorted());
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

  it('an append moving a follower that another process moved first writes nothing at all', async () => {
    await a.appendAll([entry('k1'), entry('k2')], { outbox: [message('call')] });
    const [call] = await a.outbox.claim('github', { claimer: 'a', leaseMs: 60_000 });
    expect(await b.followers.advance('f', 0, 2)).toBe(true);
    const moved = a.appendDecided(
      () => ({ entries: [entry('late')], followUps: [{ seq: 1, message: message('follow') }] }),
      { follower: { name: 'f', from: 0, to: 2 }, outbox: [message('named')], delivered: [call!.id] },
    );
    await expect(moved).rejects.toBeInstanceOf(FollowerMovedError);
    expect((await b.entriesAfter(0)).map(keyOf)).toEqual(['k1', 'k2']);
    expect(await b.outbox.forEntry(1)).toEqual([]);
    expect((await b.outbox.forEntry(2)).map((m) => [m.idempotencyKey, m.status])).toEqual([
      ['call', 'pending'],
    ]);
    expect(await b.followers.position('f')).toBe(2);
  });

  it('two replicas moving a follower from the same position at once: one commits, the other writes nothing', async () => {
    await a.appendAll([entry('k1'), entry('k2'), entry('k3')]);
    const step = (replica: AsyncLedger, who: string) =>
      replica.appendDecided(
        () => ({
          entries: [entry(`by-${who}`)],
          followUps: [{ seq: 3, message: message(`follow-${who}`) }],
          followedTo: 3,
        }),
        { follower: { name: 'f', from: 0, to: 3 } },
      );
    const raced = await Promise.allSettled([step(a, 'a'), step(b, 'b'), step(a, 'a2'), step(b, 'b2')]);
    expect(raced.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of raced.filter((r) => r.status === 'rejected'))
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(FollowerMovedError);
    const chain = await b.entriesAfter(0);
    expect(chain).toHaveLength(4);
    const winner = keyOf(chain[3]!)!.slice(3);
    expect((await a.outbox.forEntry(3)).map((m) => m.idempotencyKey)).toEqual([`follow-${winner}`]);
    expect(await a.followers.position('f')).toBe(3);
  });

  it('a follower moves only forward within what was read and the head; otherwise nothing is written', async () => {
    await a.appendAll([entry('k1'), entry('k2'), entry('k3')]);
    await a.followers.advance('f', 0, 1);
    const move = (followedTo: number, to = 2) =>
      a.appendDecided(() => ({ entries: [entry('never')], followedTo }), {
        follower: { name: 'f', from: 1, to },
      });
    for (const refused of [move(1), move(0), move(3), move(5, 5)])
      await expect(refused).rejects.toThrow(/follower f cannot move from 1/);
    expect((await b.entriesAfter(0)).map(keyOf)).toEqual(['k1', 'k2', 'k3']);
    expect(await b.followers.position('f')).toBe(1);
    expect(await move(2)).toHaveLength(1);
    expect(await b.followers.position('f')).toBe(2);
  });

  it("a follower stepped by two replicas at once commits each entry's work exactly once", async () => {
    for (let i = 0; i < 6; i++) await a.appendAll(Array.from({ length: 10 }, (_, j) => entry(`k${i}.${j}`)));
    // Every seventh entry is echoed by an appended entry; every entry (echoes too) gets one call.
    const handle = (e: LedgerEntry) => ({
      calls: [message(`follow:${e.seq}`)],
      entries: e.seq % 7 === 0 && !keyOf(e)!.startsWith('echo') ? [entry(`echo:${keyOf(e)}`)] : [],
    });
    const follow = async (replica: AsyncLedger) => {
      // Until the follower has caught up: a step another replica beat returns 0 handled.
      while ((await replica.followers.position('test-follower')) < (await replica.head()).seq)
        await replica.followers.step('test-follower', handle, 7);
    };
    await Promise.all([follow(a), follow(b), follow(a), follow(b)]);
    const chain = await wholeChain(b);
    const echoes = chain.map(keyOf).filter((k) => k!.startsWith('echo'));
    expect(echoes).toEqual(Array.from({ length: 8 }, (_, i) => `echo:${keyOf(chain[7 * (i + 1) - 1]!)}`));
    expect(new Set(echoes).size).toBe(8);
    for (const e of chain)
      expect((await b.outbox.forEntry(e.seq)).map((m) => m.idempotencyKey)).toEqual([`follow:${e.seq}`]);
    expect(await b.followers.position('test-follower')).toBe(chain.length);
  });

  it("a follower's handler sees the entries appended for the entries before it", async () => {
    await a.appendAll([entry('k1'), entry('k2')]);
    const seen: string[][] = [];
    const handle = async (e: LedgerEntry, view: LedgerView) => {
      if (keyOf(e) === 'k1') return { entries: [entry('echo:k1')] };
      if (keyOf(e) === 'k2') seen.push((await view.entriesAfter(0)).map((x) => keyOf(x)!));
      return {};
    };
    expect(await a.followers.step('f', handle)).toMatchObject({ handled: 1, appended: [{ seq: 3 }] });
    expect(await b.followers.step('f', handle)).toMatchObject({ handled: 2, appended: [] });
    expect(seen.at(-1)).toEqual(['k1', 'k2', 'echo:k1']);
    expect(await a.followers.step('f', handle)).toEqual({ handled: 0, appended: [] });
  });

  it('a follower whose handler fails queues nothing and keeps its position', async () => {
    await a.appendAll([entry('k1'), entry('k2'), entry('k3')]);
    const failing = (e: LedgerEntry) => {
      if (e.seq === 3) throw new Error('crash while handling entry 3');
      return { calls: [message(`follow:${e.seq}`)], entries: e.seq === 1 ? [] : undefined };
    };
    await expect(a.followers.step('test-follower', failing)).rejects.toThrow(/crash while handling/);
    expect(await b.followers.position('test-follower')).toBe(0);
    expect(await b.outbox.forEntry(1)).toEqual([]);
    const handled = await b.followers.step('test-follower', (e) => ({ calls: [message(`follow:${e.seq}`)] }));
    expect(handled).toEqual({ handled: 3, appended: [] });
    expect((await a.outbox.forEntry(1)).map((m) => m.idempotencyKey)).toEqual(['follow:1']);
    expect(await a.followers.position('test-follower')).toBe(3);
    expect(await a.head()).toMatchObject({ seq: 3 });
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

  it("a replica restarted under its own name gives its claims back at once; another's stay held", async () => {
    await a.append(entry('k'), { outbox: [message('m1'), message('m2'), message('m3')] });
    const [m1] = await a.outbox.claim('github', { claimer: 'replica-a', leaseMs: 600_000, limit: 2 });
    await b.outbox.claim('github', { claimer: 'replica-b', leaseMs: 600_000 });
    expect(await b.outbox.release('replica-b', [m1!.id])).toBe(0);
    expect(await a.outbox.release('replica-a', [m1!.id])).toBe(1);
    expect(await b.outbox.release('replica-a')).toBe(1);
    expect(await b.outbox.release('replica-a')).toBe(0);
    const again = await b.outbox.claim('github', { claimer: 'replica-a', leaseMs: 600_000 });
    expect(again.map((m) => m.idempotencyKey)).toEqual(['m1', 'm2']);
  });

  it('a lane is claimed alone or left out, by key prefix, with % and _ taken literally', async () => {
    await a.append(entry('k'), {
      outbox: [
        message('pr', 'pr-1'),
        message('alert-1', 'alert:x'),
        message('alert-2', 'alert:y'),
        message('lookalike', 'alertZ'),
        message('wild', 'al%rt:z'),
      ],
    });
    const lane = { prefix: 'alert:', inside: true };
    const inLane = await b.outbox.claim('github', { claimer: 'b', leaseMs: 30_000, lane });
    expect(inLane.map((m) => m.idempotencyKey)).toEqual(['alert-1', 'alert-2']);
    const rest = await a.outbox.claim('github', {
      claimer: 'a',
      leaseMs: 30_000,
      lane: { ...lane, inside: false },
    });
    expect(rest.map((m) => m.idempotencyKey)).toEqual(['pr', 'lookalike', 'wild']);
  });

  it('a completion marks what the call stood for only when the claimer still held it; a failure is kept, never retried', async () => {
    await a.append(entry('k'), {
      outbox: [
        message('d-1', 'digest'),
        message('d-2', 'digest'),
        message('d-3', 'digest'),
        message('x', 'x'),
      ],
    });
    expect((await b.outbox.pendingWith('github', 'digest')).map((m) => m.idempotencyKey)).toEqual([
      'd-1',
      'd-2',
      'd-3',
    ]);
    const [first, other] = await a.outbox.claim('github', { claimer: 'a', leaseMs: 30_000 });
    const [d2, d3] = (await a.outbox.pendingWith('github', 'digest')).slice(1);
    // Someone else's claim: completing it marks nothing it stood for.
    expect(await b.outbox.complete(first!.id, 'b', [d2!.id])).toBe(false);
    expect(await b.outbox.pendingCount('github')).toBe(4);
    expect(await a.outbox.complete(first!.id, 'a', [d2!.id, d3!.id])).toBe(true);
    expect(await b.outbox.pendingWith('github', 'digest')).toEqual([]);
    expect(await b.outbox.lastDeliveredAt('github', 'digest')).toBe(clock.now().toISOString());
    expect(await b.outbox.lastDeliveredAt('github', 'x')).toBeNull();
    expect(await b.outbox.fail(other!.id, 'b', 'not mine')).toBe(false);
    expect(await a.outbox.fail(other!.id, 'a', 'HTTP 422: refused 5 times')).toBe(true);
    clock.advance(3_600_000);
    expect(await b.outbox.claim('github', { claimer: 'b', leaseMs: 30_000 })).toEqual([]);
    expect(await b.outbox.pendingCount()).toBe(0);
    expect((await b.outbox.forEntry(1)).map((m) => [m.idempotencyKey, m.status, m.lastError])).toEqual([
      ['d-1', 'delivered', null],
      ['d-2', 'delivered', null],
      ['d-3', 'delivered', null],
      ['x', 'failed', 'HTTP 422: refused 5 times'],
    ]);
  });

  it('a message caused by no entry is queued with cause 0, in order with its key, once per key, even on an empty ledger', async () => {
    await a.outbox.enqueueUncaused({
      ...message('reply-1', 'user-1'),
      notBefore: new Date(clock.now().getTime() + 5_000),
    });
    await b.outbox.enqueueUncaused(message('reply-1', 'user-1', { again: true }));
    await b.outbox.enqueueUncaused(message('reply-2', 'user-1'));
    expect((await a.head()).seq).toBe(0);
    expect((await b.outbox.forEntry(0)).map((m) => [m.seq, m.idempotencyKey, m.payload, m.status])).toEqual([
      [0, 'reply-1', { key: 'reply-1' }, 'pending'],
      [0, 'reply-2', { key: 'reply-2' }, 'pending'],
    ]);
    // The first waits for its time, and the second for the first: nothing is due yet.
    expect(await a.outbox.claim('github', { claimer: 'a', leaseMs: 30_000 })).toEqual([]);
    clock.advance(5_000);
    const [first] = await a.outbox.claim('github', { claimer: 'a', leaseMs: 30_000 });
    expect(first?.idempotencyKey).toBe('reply-1');
    expect(await a.outbox.complete(first!.id, 'a')).toBe(true);
    const [second] = await b.outbox.claim('github', { claimer: 'b', leaseMs: 30_000 });
    expect(second?.idempotencyKey).toBe('reply-2');
  });

  it("the readiness probe's heartbeat commits, again and again, on either engine", async () => {
    const heartbeat = new LedgerHeartbeat(a);
    await heartbeat.beat(clock.now());
    clock.advance(1_000);
    await new LedgerHeartbeat(b).beat(clock.now());
    expect(await a.reader.all('SELECT id, at FROM heartbeat')).toEqual([
      { id: 1, at: clock.now().toISOString() },
    ]);
  });

  it('a delivery and the entry it establishes commit together; a refused entry leaves the message pending', async () => {
    await a.append(entry('k'), { outbox: [message('m1'), message('m2')] });
    const [m1, m2] = await a.outbox.claim('github', { claimer: 'a', leaseMs: 30_000 });
    await expect(
      b.appendAll([{ ...entry('k'), payload: { nope: 1 } } as unknown as LedgerEntryInput], {
        delivered: [m1!.id],
      }),
    ).rejects.toThrow(/invalid/);
    expect((await b.outbox.forEntry(1)).map((m) => m.status)).toEqual(['pending', 'pending']);
    const [effect] = await b.appendAll([entry('effect')], { delivered: [m1!.id] });
    const decided = await a.appendDecided(async (view) => [entry(`after:${view.head.seq}`)], {
      delivered: [m2!.id],
    });
    expect([effect!.seq, decided[0]!.seq]).toEqual([2, 3]);
    expect((await b.outbox.forEntry(1)).map((m) => m.status)).toEqual(['delivered', 'delivered']);
    expect(await a.outbox.complete(m1!.id, 'a')).toBe(false);
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

it('the same entries yield the same projection rows on both engines, table by table', async () => {
  const results: ProjectionRows[] = [];
  for (const [, open] of engines) {
    const fixture = await open(testClock());
    const ledger = await fixture.replica();
    const history = [...projectionHistory('docs-bot'), ...projectionHistory('infra-bot')];
    await ledger.appendAll(history.slice(0, 5));
    for (const input of history.slice(5)) await ledger.append(input);
    results.push(await fixture.projectionRows());
    await ledger.close();
  }
  const [sqliteRows, postgresRows] = results;
  for (const { table } of PROJECTION_TABLES) {
    expect(sqliteRows![table]!.length, table).toBeGreaterThan(0);
    expect(postgresRows![table], table).toEqual(sqliteRows![table]);
  }
});

it('verify on PostgreSQL rebuilds into tables shaped as the migrations create them', async () => {
  const url = await server.createDatabase();
  const ledger = await openPostgresLedger(url);
  await ledger.close();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const { table } of PROJECTION_TABLES) {
      const { rows } = await client.query<{ column_name: string }>(
        'SELECT column_name FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position',
        [table],
      );
      expect(rows.map((r) => r.column_name)).toEqual(pgProjectionColumns(table));
    }
  } finally {
    await client.end();
  }
});
