import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LedgerEntryInput } from '../../src/core/ledger-entries.js';
import { dbOf, Ledger } from '../../src/ledger/ledger.js';
import { MIGRATIONS } from '../../src/ledger/migrations.js';
import { openLedgerDb } from '../../src/ledger/open-ledger-db.js';
import { verifyLedger } from '../../src/ledger/verify.js';
import { tempDir } from '../helpers/agov.js';

const fixedClock = () => new Date('2026-11-24T12:00:00.000Z');

function newLedger() {
  return new Ledger(openLedgerDb(':memory:'), fixedClock);
}

const register = (id: string): LedgerEntryInput & { type: 'agent.registered' } => ({
  type: 'agent.registered',
  agentId: id,
  actor: 'alice',
  payload: {
    name: id,
    owner: 'alice',
    tier: 'T1',
    identities: { githubLogins: [], trailers: [] },
    tokenHash: null,
  },
});

describe('Ledger', () => {
  it('chains entries: each links to the one before', () => {
    const ledger = newLedger();
    const [a, b] = ledger.appendAll([register('a'), register('b')]);
    expect(a!.seq).toBe(1);
    expect(a!.prevHash).toBe('0'.repeat(64));
    expect(b!.prevHash).toBe(a!.hash);
    expect(ledger.head()).toEqual({ seq: 2, hash: b!.hash });
    expect(verifyLedger(dbOf(ledger))).toMatchObject({ ok: true, checked: 2 });
  });

  it('writes the projections in the same transaction as the entry', () => {
    const ledger = newLedger();
    ledger.append(register('docs-bot'));
    ledger.append({
      type: 'violation.recorded',
      agentId: 'docs-bot',
      actor: 'github',
      payload: {
        violation: 'secret_exposure',
        severity: 'critical',
        consequence: 'revoke',
        budgetCharge: 0,
        details: 'AWS key',
        source: 'github',
      },
    });
    ledger.append({
      type: 'agent.tier_changed',
      agentId: 'docs-bot',
      actor: 'alice',
      payload: { from: 'T1', to: 'T2', reason: 'r', kind: 'promotion' },
    });
    const db = dbOf(ledger);
    expect(db.prepare('SELECT seq, type FROM agent_actions ORDER BY seq').all()).toEqual([
      { seq: 1, type: 'agent.registered' },
      { seq: 2, type: 'violation.recorded' },
      { seq: 3, type: 'agent.tier_changed' },
    ]);
    expect(db.prepare('SELECT agent_id, type, severity, consequence FROM violations').all()).toEqual([
      { agent_id: 'docs-bot', type: 'secret_exposure', severity: 'critical', consequence: 'revoke' },
    ]);
    expect(db.prepare('SELECT kind, from_tier, to_tier FROM promotions').all()).toEqual([
      { kind: 'promotion', from_tier: 'T1', to_tier: 'T2' },
    ]);
    expect(
      db.prepare('SELECT tier, violations_total, last_serious_violation_at FROM agent_metrics').get(),
    ).toEqual({
      tier: 'T2',
      violations_total: 1,
      last_serious_violation_at: '2026-11-24T12:00:00.000Z',
    });
  });

  it('refuses an invalid entry and writes nothing, not even part of a batch', () => {
    const ledger = newLedger();
    ledger.append(register('a'));
    const bad = { ...register('b'), payload: { ...register('b').payload, tier: 'T9' } } as never;
    expect(() => ledger.appendAll([register('c'), bad])).toThrow(/invalid agent.registered entry: tier/);
    expect(() => ledger.append({ ...register('x'), agentId: 'Not A Slug' })).toThrow(
      /invalid agent.registered entry/,
    );
    expect(() => ledger.append({ ...register('x'), type: 'made.up' } as never)).toThrow(
      /unknown ledger entry type/,
    );
    expect(ledger.head().seq).toBe(1);
    expect(dbOf(ledger).prepare('SELECT COUNT(*) AS n FROM agent_metrics').get()).toEqual({ n: 1 });
  });

  it('writes outbox messages with their cause, or not at all', () => {
    const ledger = newLedger();
    const msg = {
      target: 'slack',
      kind: 'chat.postMessage',
      idempotencyKey: 'revoke-a',
      orderingKey: 'C123',
      payload: { text: 'revoked' },
    } as const;
    const entry = ledger.append(register('a'), { outbox: [msg] });
    expect(ledger.outbox.dueFor('slack')).toMatchObject([
      { seq: entry.seq, kind: 'chat.postMessage', payload: { text: 'revoked' } },
    ]);
    // The same idempotency key from a replayed cause is enqueued once.
    ledger.append(register('b'), { outbox: [msg] });
    expect(ledger.outbox.pendingCount()).toBe(1);
    // A failed append leaves no orphan call behind.
    expect(() =>
      ledger.append(register('Bad Id') as never, { outbox: [{ ...msg, idempotencyKey: 'other' }] }),
    ).toThrow();
    expect(ledger.outbox.pendingCount()).toBe(1);
  });

  it('delivers in order per ordering key: a message waiting for a retry holds back the ones behind it', () => {
    let now = new Date('2026-11-24T12:00:00.000Z');
    const ledger = new Ledger(openLedgerDb(':memory:'), () => now);
    const message = (n: number, orderingKey: string) =>
      ({
        target: 'github',
        kind: 'check_run.upsert',
        idempotencyKey: `k${n}`,
        orderingKey,
        payload: { n },
      }) as const;
    const entry = ledger.append(register('a'), {
      outbox: [message(1, 'check-a'), message(2, 'check-a'), message(3, 'check-b'), message(4, 'check-b')],
    });
    // One message per key at a time, oldest first.
    let due = ledger.outbox.dueFor('github');
    expect(due.map((m) => m.payload)).toEqual([{ n: 1 }, { n: 3 }]);
    expect(due.every((m) => m.seq === entry.seq)).toBe(true);
    ledger.outbox.markRetry(due[0]!.id, 'HTTP 502', new Date('2026-11-24T12:01:00.000Z'));
    expect(ledger.outbox.markDelivered(due[1]!.id)).toBe(true);
    expect(ledger.outbox.markDelivered(due[1]!.id)).toBe(false);
    // n=2 waits behind n=1, which waits for its retry; check-b moves on.
    due = ledger.outbox.dueFor('github');
    expect(due.map((m) => m.payload)).toEqual([{ n: 4 }]);
    ledger.outbox.markDelivered(due[0]!.id);
    expect(ledger.outbox.nextAttemptAt('github')).toBe('2026-11-24T12:00:00.000Z');
    now = new Date('2026-11-24T12:02:00.000Z');
    expect(ledger.outbox.dueFor('github').map((m) => [m.payload, m.attempts, m.lastError])).toEqual([
      [{ n: 1 }, 1, 'HTTP 502'],
    ]);
  });

  it('commits concurrent appends together, each group atomic and in the order asked', async () => {
    const ledger = newLedger();
    const results = await Promise.all([
      ledger.appendSoon([register('a'), register('b')]),
      ledger.appendSoon([register('c')], {
        outbox: [
          { target: 'slack', kind: 'chat.postMessage', idempotencyKey: 'c', orderingKey: 'C1', payload: {} },
        ],
      }),
      ledger.appendSoon([register('d')]),
    ]);
    expect(results.map((entries) => entries.map((e) => e.seq))).toEqual([[1, 2], [3], [4]]);
    expect(ledger.outbox.dueFor('slack').map((m) => m.seq)).toEqual([3]);
    await expect(ledger.appendSoon([register('e'), register('Bad Id')])).rejects.toThrow(
      /invalid agent.registered entry/,
    );
    expect(ledger.head().seq).toBe(4);
    expect(verifyLedger(dbOf(ledger))).toMatchObject({ ok: true, checked: 4 });
  });

  it('re-reads the head when another process appended since its last write', () => {
    const file = join(tempDir(), 'dbOf(ledger)');
    const one = new Ledger(openLedgerDb(file));
    const two = new Ledger(openLedgerDb(file));
    one.append(register('a'));
    two.append(register('b'));
    expect(one.append(register('c')).seq).toBe(3);
    expect(verifyLedger(one)).toMatchObject({ ok: true, checked: 3 });
  });

  it('migrates a new database to the latest schema version and reopens without migrating again', () => {
    const db = openLedgerDb(':memory:');
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.at(-1)!.version);
    expect(db.pragma('journal_mode', { simple: true })).toBe('memory');
  });
});
