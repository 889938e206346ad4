/**
 * `AsyncLedger.appendAnswered` on both engines: a decision made from one question's answer sees
 * what was committed before its entries and nothing after, however the engine runs it (SQLite inside
 * its group commit, PostgreSQL in the decision's transaction). Hostile cases first.
 */
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LedgerEntryInput } from '../../src/core/ledger-entries.js';
import type { AsyncLedger } from '../../src/ledger/async-ledger.js';
import { openLedger } from '../../src/ledger/ledger.js';
import { openPostgresLedger } from '../../src/ledger/postgres/postgres-ledger.js';
import { agentQuestions } from '../../src/ledger/queries/agents.js';
import { SqliteAsyncLedger } from '../../src/ledger/sqlite-async-ledger.js';
import { sqlite, tempDir } from '../helpers/agov.js';
import { entry, keyOf, message, registered, revoked } from '../helpers/entries.js';
import { PrivatePostgres } from '../helpers/postgres-server.js';

let server: PrivatePostgres;
beforeAll(async () => {
  server = await PrivatePostgres.start();
});
afterAll(async () => {
  await server?.stop();
});

interface Fixture {
  replica(): Promise<AsyncLedger>;
  /** Makes the database fail any outbox insert whose payload says "boom". */
  sabotageOutbox(): Promise<void>;
}

function sqliteFixture(): Fixture {
  const path = join(tempDir(), 'ledger.db');
  return {
    replica: async () => new SqliteAsyncLedger(openLedger(path)),
    sabotageOutbox: async () => {
      sqlite(
        path,
        "CREATE TRIGGER boom BEFORE INSERT ON outbox WHEN NEW.payload LIKE '%boom%' BEGIN SELECT RAISE(ABORT, 'boom'); END;",
      );
    },
  };
}

async function postgresFixture(): Promise<Fixture> {
  const url = await server.createDatabase();
  return {
    replica: () => openPostgresLedger(url),
    sabotageOutbox: async () => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      await client.query(
        `CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN IF NEW.payload LIKE '%boom%' THEN RAISE EXCEPTION 'boom'; END IF; RETURN NEW; END $$;
         CREATE TRIGGER boom BEFORE INSERT ON outbox FOR EACH ROW EXECUTE FUNCTION boom();`,
      );
      await client.end();
    },
  };
}

const [agent, revoke] = [registered, revoked];

/** The entry an allow-or-deny decision writes for agent `id`, from its status. */
const decisionFor = (id: string) => (status: string | null) => [entry(`${status}:${id}`)];

describe.each([
  ['sqlite', async () => sqliteFixture()],
  ['postgres', postgresFixture],
])('appendAnswered: %s', (_engine, open) => {
  let fixture: Fixture;
  let a: AsyncLedger;
  let b: AsyncLedger;
  beforeEach(async () => {
    fixture = await open();
    a = await fixture.replica();
    b = await fixture.replica();
  });
  afterEach(async () => {
    await a?.close();
    await b?.close();
  });

  it('sees a revocation committed before its entry, from another replica or its own, and none after', async () => {
    const ids = Array.from({ length: 8 }, (_, i) => `bot-${i}`);
    await a.appendAll(ids.map(agent));
    // Each round: A decides from the agent's status while B revokes it at the same moment, and A's
    // own replica revokes the odd ones in the same turn (on SQLite: the same group commit).
    const rounds = ids.map(async (id, i) => {
      const decided = a.appendAnswered(agentQuestions.agentStatus(id), decisionFor(id));
      const revoked = i % 2 ? a.append(revoke(id)) : b.append(revoke(id));
      const [[decision], revocation] = await Promise.all([decided, revoked]);
      return { decision: decision!, revokedAt: revocation.seq };
    });
    for (const { decision, revokedAt } of await Promise.all(rounds)) {
      const id = keyOf(decision)!.split(':')[1];
      expect(keyOf(decision)).toBe(`${revokedAt < decision.seq ? 'revoked' : 'active'}:${id}`);
    }
    expect(await b.verifyChain()).toMatchObject({ ok: true, checked: 24 });
  });

  it('a decision that throws, or decides an invalid entry, appends nothing and takes nothing else down', async () => {
    await a.append(agent('bot'));
    const [thrown, invalid, answered, plain] = await Promise.allSettled([
      a.appendAnswered(agentQuestions.agentStatus('bot'), () => {
        throw new Error('cannot decide');
      }),
      a.appendAnswered(agentQuestions.agentStatus('bot'), () => [
        { ...entry('k'), payload: { nope: 1 } } as unknown as LedgerEntryInput,
      ]),
      a.appendAnswered(agentQuestions.agentStatus('bot'), decisionFor('bot')),
      a.append(entry('plain')),
    ]);
    expect(thrown).toMatchObject({ status: 'rejected', reason: { message: 'cannot decide' } });
    expect(invalid).toMatchObject({
      status: 'rejected',
      reason: { message: expect.stringMatching(/invalid finding.resolved entry/) },
    });
    expect(answered).toMatchObject({ status: 'fulfilled', value: [{ payload: { key: 'active:bot' } }] });
    expect(plain).toMatchObject({ status: 'fulfilled' });
    expect((await b.entriesAfter(1)).map(keyOf).sort()).toEqual(['active:bot', 'plain']);
    expect(await b.verifyChain()).toMatchObject({ ok: true, checked: 3 });
  });

  it('a commit the database refuses for another append does not take the decision down', async () => {
    await fixture.sabotageOutbox();
    const [refused, answered] = await Promise.allSettled([
      a.append(entry('refused'), { outbox: [message('boom')] }),
      a.appendAnswered(agentQuestions.agentStatus('nobody'), decisionFor('nobody'), {
        outbox: [message('fine')],
      }),
    ]);
    expect(refused).toMatchObject({ status: 'rejected', reason: { message: expect.stringMatching(/boom/) } });
    expect(answered).toMatchObject({
      status: 'fulfilled',
      value: [{ seq: 1, payload: { key: 'null:nobody' } }],
    });
    expect((await b.outbox.forEntry(1)).map((m) => m.idempotencyKey)).toEqual(['fine']);
    expect(await b.verifyChain()).toMatchObject({ ok: true, checked: 1 });
  });

  it('queues the named calls with its last entry, and appends nothing when it decides nothing', async () => {
    const [nothing, decided] = await Promise.all([
      a.appendAnswered(agentQuestions.agentStatus('nobody'), () => [], { outbox: [message('never')] }),
      a.appendAnswered(agentQuestions.agentStatus('nobody'), () => [entry('first'), entry('second')], {
        outbox: [message('named')],
      }),
    ]);
    expect(nothing).toEqual([]);
    expect(decided.map((e) => e.seq)).toEqual([1, 2]);
    expect(await b.outbox.forEntry(1)).toEqual([]);
    expect((await b.outbox.forEntry(2)).map((m) => m.idempotencyKey)).toEqual(['named']);
    expect(await b.outbox.pendingCount()).toBe(1);
  });
});

describe('appendAnswered on SQLite: inside the group commit', () => {
  it('sees a revocation another connection committed while the decision waited for its commit', async () => {
    const path = join(tempDir(), 'ledger.db');
    const a = new SqliteAsyncLedger(openLedger(path));
    const other = openLedger(path);
    try {
      await a.append(agent('bot'));
      const decided = a.appendAnswered(agentQuestions.agentStatus('bot'), decisionFor('bot'));
      // The decision is queued for the next group commit; the revocation commits before it runs.
      const revocation = other.append(revoke('bot'));
      const [decision] = await decided;
      expect(keyOf(decision!)).toBe('revoked:bot');
      expect(decision!.seq).toBe(revocation.seq + 1);
      expect(await a.verifyChain()).toMatchObject({ ok: true, checked: 3 });
    } finally {
      other.close();
      await a.close();
    }
  });

  it('decisions asked in one turn beside other appends are made in chain order, each seeing the appends before it', async () => {
    const path = join(tempDir(), 'ledger.db');
    const a = new SqliteAsyncLedger(openLedger(path));
    try {
      await a.append(agent('bot'));
      // In chain order: allow, the revocation, then a deny that saw it; all in one batch.
      const [[first], revocation, [second]] = await Promise.all([
        a.appendAnswered(agentQuestions.agentStatus('bot'), decisionFor('bot')),
        a.append(revoke('bot')),
        a.appendAnswered(agentQuestions.agentStatus('bot'), decisionFor('bot')),
      ]);
      expect([first!.seq, revocation.seq, second!.seq]).toEqual([2, 3, 4]);
      expect([keyOf(first!), keyOf(second!)]).toEqual(['active:bot', 'revoked:bot']);
    } finally {
      await a.close();
    }
  });
});
