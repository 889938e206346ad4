import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { type Deliverer, DeliveryLoop } from '../../src/integrations/delivery-loop.js';
import type { TypedOutboxMessage } from '../../src/integrations/outbox-messages.js';
import { dbOf, Ledger, openLedger } from '../../src/ledger/ledger.js';
import { openLedgerDb } from '../../src/ledger/open-ledger-db.js';
import { SqliteAsyncLedger } from '../../src/ledger/sqlite-async-ledger.js';
import { createLogger } from '../../src/platform/logger.js';
import { tempDir } from '../helpers/agov.js';

const checkRun = {
  installationId: 1,
  owner: 'acme',
  repo: 'web',
  headSha: 'a'.repeat(40),
  name: 'Agent Governance',
  render: {
    status: 'completed',
    conclusion: 'success',
    output: { title: 't', summary: 's', annotations: [] },
  },
};

function setup(deliver: Deliverer['deliver'], extra: Partial<Deliverer> = {}) {
  const ledger = new Ledger(openLedgerDb(':memory:'));
  const seq = ledger.append({
    type: 'integration.event',
    agentId: 'bot',
    actor: 'bot',
    payload: { event: 'execution_complete', data: {} },
  }).seq;
  const delivered: TypedOutboxMessage[] = [];
  const loop = new DeliveryLoop(
    new SqliteAsyncLedger(ledger),
    {
      target: 'github',
      retry: { initialMs: 1000, maxMs: 60_000 },
      deliver: async (m) => {
        delivered.push(m);
        return deliver(m);
      },
      ...extra,
    },
    createLogger('silent'),
  );
  const enqueue = (kind: string, payload: unknown, key = kind) =>
    ledger.outbox.enqueue(seq, { target: 'github', kind, idempotencyKey: key, orderingKey: key, payload });
  const rows = () =>
    dbOf(ledger).prepare('SELECT kind, status, attempts, last_error FROM outbox ORDER BY id').all() as {
      kind: string;
      status: string;
      attempts: number;
      last_error: string | null;
    }[];
  return { ledger, loop, enqueue, rows, delivered };
}

describe('the delivery loop', () => {
  it('a call whose mark could not be written (the ledger went away after the call) is made again at the next run, not after its lease', async () => {
    let calls = 0;
    const { ledger, loop, enqueue, rows } = setup(async () => {
      calls++;
      // The ledger stops taking writes between GitHub's answer and the outbox's mark.
      if (calls === 1) dbOf(ledger).pragma('query_only = ON');
      return undefined;
    });
    enqueue('check_run.upsert', checkRun);
    await expect(loop.run()).rejects.toThrow(/readonly|read-only|query_only/i);
    dbOf(ledger).pragma('query_only = OFF');
    await loop.run();
    // Made again (its calls are idempotent: a check run is looked up before it is created).
    expect(calls).toBe(2);
    expect(rows()).toMatchObject([{ kind: 'check_run.upsert', status: 'delivered' }]);
  });

  it('refuses a message it cannot read (unknown kind, forged payload, not JSON) with the reason, alone, and never delivers it', async () => {
    const { ledger, loop, enqueue, rows, delivered } = setup(async () => undefined);
    enqueue('repos.delete', { owner: 'acme', repo: 'web' });
    enqueue('check_run.upsert', { ...checkRun, installationId: 'everyone' }, 'forged');
    dbOf(ledger)
      .prepare(
        "INSERT INTO outbox (seq, target, kind, idempotency_key, ordering_key, payload, next_attempt_at, created_at) VALUES (1, 'github', 'check_run.upsert', 'broken', 'broken', '{not json', '', '')",
      )
      .run();
    enqueue('check_run.upsert', checkRun, 'after');
    await loop.run();
    await loop.run();
    // Only the one good message behind them went out.
    expect(delivered.map((m) => m.idempotencyKey)).toEqual(['after']);
    expect(rows()).toEqual([
      {
        kind: 'repos.delete',
        status: 'failed',
        attempts: 1,
        last_error: 'unknown outbox kind `repos.delete`',
      },
      {
        kind: 'check_run.upsert',
        status: 'failed',
        attempts: 1,
        last_error: expect.stringContaining('installationId'),
      },
      {
        kind: 'check_run.upsert',
        status: 'failed',
        attempts: 1,
        last_error: 'outbox check_run.upsert #3: the payload is not JSON',
      },
      { kind: 'check_run.upsert', status: 'delivered', attempts: 1, last_error: null },
    ]);
  });

  it('a failure is retried later, after what the service asked for; the message is not lost', async () => {
    let fail = true;
    const { loop, enqueue, rows } = setup(async () => {
      if (fail)
        throw Object.assign(new Error('rate limited'), {
          status: 429,
          response: { headers: { 'retry-after': '30' } },
        });
      return undefined;
    });
    enqueue('check_run.upsert', checkRun);
    await loop.run();
    expect(rows()).toEqual([
      {
        kind: 'check_run.upsert',
        status: 'pending',
        attempts: 1,
        last_error: expect.stringContaining('429'),
      },
    ]);
    fail = false;
    await loop.run(); // not due yet: Retry-After is 30 s
    expect(rows()[0]!.status).toBe('pending');
  });

  it('what a delivery establishes is recorded with its mark, or neither is', async () => {
    let recordFails = true;
    const { ledger, loop, enqueue, rows } = setup(async () => ({
      effect: async () => {
        if (recordFails) throw new Error('disk full');
        return [
          {
            type: 'revocation.effect',
            agentId: 'bot',
            actor: 'governance',
            payload: { revocationId: 'rev-1', effect: 'check', ok: true, detail: 'failed the check' },
          },
        ];
      },
    }));
    enqueue('check_run.upsert', checkRun);
    await loop.run();
    expect(rows()[0]!.status).toBe('pending');
    expect(ledger.entriesAfter(0).map((e) => e.type)).toEqual(['integration.event']);
    recordFails = false;
    await loop.run(); // retried once its backoff is over; not yet due
    expect(rows()[0]!.status).toBe('pending');
  });

  it('two runs asked for at once deliver a message once', async () => {
    const { loop, enqueue, delivered } = setup(async () => {
      await new Promise((r) => setTimeout(r, 10));
      return undefined;
    });
    enqueue('check_run.upsert', checkRun);
    await Promise.all([loop.run(), loop.run(), loop.pump.runNow()]);
    expect(delivered).toHaveLength(1);
  });

  it('a message held (a low rate limit kept for gates) waits, and goes out once the hold is over', async () => {
    let held = true;
    const { loop, enqueue, rows, delivered } = setup(async () => undefined, {
      holdUntil: () => (held ? { until: new Date(0), reason: 'rate limit low: gates first' } : null),
    });
    enqueue('finding_issue', { action: 'open', repository: 'acme/ops', labels: [], key: 'k' });
    await loop.run();
    expect(delivered).toEqual([]);
    expect(rows()[0]).toMatchObject({ status: 'pending', last_error: 'rate limit low: gates first' });
    held = false;
    await loop.run();
    expect(delivered).toHaveLength(1);
    expect(rows()[0]!.status).toBe('delivered');
  });

  it('a call refused for good (a 4xx, a malformed render) is marked failed after five tries and frees its key', async () => {
    const { ledger, loop, enqueue, rows, delivered } = setup(
      async (m) => {
        if (m.idempotencyKey === 'refused')
          throw Object.assign(new Error('Validation Failed'), { status: 422 });
        return undefined;
      },
      { retry: { initialMs: 0, maxMs: 0 } },
    );
    enqueue('check_run.upsert', checkRun, 'refused');
    enqueue('check_run.upsert', checkRun, 'refused-next');
    dbOf(ledger).prepare("UPDATE outbox SET ordering_key = 'same'").run();
    for (let i = 0; i < 6; i++) await loop.run();
    expect(rows().map((r) => [r.status, r.attempts, r.last_error])).toEqual([
      ['failed', 5, 'refused 5 times: HTTP 422: Validation Failed'],
      ['delivered', 1, null],
    ]);
    expect(delivered.filter((m) => m.idempotencyKey === 'refused-next')).toHaveLength(1);
  });

  it("two replicas delivering from one outbox at once make each call once; a dead replica's claims are taken over after the lease, and its restart gives them back at once", async () => {
    const path = join(tempDir(), 'ledger.db');
    let now = Date.parse('2026-11-27T10:00:00Z');
    const clock = () => new Date(now);
    const one = openLedger(path, {}, clock);
    const seq = one.append({
      type: 'integration.event',
      agentId: 'bot',
      actor: 'bot',
      payload: { event: 'heartbeat', data: {} },
    }).seq;
    for (let i = 0; i < 40; i++)
      one.outbox.enqueue(seq, {
        target: 'github',
        kind: 'check_run.upsert',
        idempotencyKey: `k${i}`,
        orderingKey: `pr-${i % 7}`,
        payload: checkRun,
      });
    const calls: string[] = [];
    const replica = (
      claimer: string,
      deliver: Deliverer['deliver'] = async (m) => {
        calls.push(m.idempotencyKey);
        await new Promise((r) => setTimeout(r, 1));
        return undefined;
      },
    ) =>
      new DeliveryLoop(
        new SqliteAsyncLedger(openLedger(path, {}, clock), clock),
        { target: 'github', retry: { initialMs: 1000, maxMs: 60_000 }, parallel: 4, deliver },
        createLogger('silent'),
        { claimer, leaseMs: 60_000, now: () => now },
      );
    const [a, b] = [replica('replica-a'), replica('replica-b')];
    // Each run makes one call per PR (its oldest); both replicas run until nothing is left.
    while (one.outbox.pendingCount('github') > 0) await Promise.all([a.run(), b.run()]);
    expect(calls.toSorted()).toEqual(Array.from({ length: 40 }, (_, i) => `k${i}`).toSorted());
    // Order per key held: each PR's calls went out oldest first.
    for (let k = 0; k < 7; k++) {
      const mine = calls.filter((c) => Number(c.slice(1)) % 7 === k);
      expect(mine).toEqual(mine.toSorted((x, y) => Number(x.slice(1)) - Number(y.slice(1))));
    }
    // Replica C claims a call and dies before making it.
    one.outbox.enqueue(seq, {
      target: 'github',
      kind: 'check_run.upsert',
      idempotencyKey: 'late',
      orderingKey: 'late',
      payload: checkRun,
    });
    const dying = replica('replica-c', () => new Promise(() => {}));
    void dying.run();
    await vi.waitFor(() =>
      expect(dbOf(one).prepare("SELECT claimed_by FROM outbox WHERE idempotency_key = 'late'").get()).toEqual(
        { claimed_by: 'replica-c' },
      ),
    );
    await b.run();
    expect(calls).not.toContain('late');
    now += 60_000;
    await b.run();
    expect(calls.filter((c) => c === 'late')).toHaveLength(1);
    // Replica C's restart, under its own name, gives back a claim it held at once.
    one.outbox.enqueue(seq, {
      target: 'github',
      kind: 'check_run.upsert',
      idempotencyKey: 'later',
      orderingKey: 'later',
      payload: checkRun,
    });
    dbOf(one)
      .prepare(
        "UPDATE outbox SET claimed_by = 'replica-c', lease_until = '2099-01-01T00:00:00.000Z' WHERE idempotency_key = 'later'",
      )
      .run();
    await replica('replica-c').run();
    expect(calls.filter((c) => c === 'later')).toHaveLength(1);
  });
});
