import { expect, it } from 'vitest';
import { IntegrationManager } from '../../src/integrations/integration-manager.js';
import { Ledger } from '../../src/ledger/ledger.js';
import { openLedgerDb } from '../../src/ledger/open-ledger-db.js';
import { SqliteAsyncLedger } from '../../src/ledger/sqlite-async-ledger.js';
import { createBreaker, isTransient, retryAt } from '../../src/platform/resilience.js';

it('routes each integration event to the subscribers of it, as calls tied to the event, once', async () => {
  const ledger = new Ledger(openLedgerDb(':memory:'));
  const store = new SqliteAsyncLedger(ledger);
  const manager = new IntegrationManager();
  manager.subscribe({
    name: 'slack',
    events: ['execution_complete', 'agent_revoked'],
    callsFor: async (event, data, seq) => [
      {
        target: 'slack',
        kind: 'chat.postMessage',
        idempotencyKey: `${event}-${seq}`,
        orderingKey: 'C-alerts',
        payload: { text: `${event} ${data.agentId}` },
      },
    ],
    callsForEntry: async (entry) =>
      entry.type === 'integration.event' && entry.payload.event === 'plan_created'
        ? { entries: [{ type: 'finding.resolved', agentId: null, actor: 'slack', payload: { key: 'k' } }] }
        : {},
  });
  manager.subscribe({ name: 'github', events: ['agent_revoked'], callsFor: async () => [] });
  const entry = ledger.append({
    type: 'integration.event',
    agentId: 'docs-bot',
    actor: 'x',
    payload: { event: 'execution_complete', data: {} },
  });
  const other = ledger.append({
    type: 'integration.event',
    agentId: 'docs-bot',
    actor: 'x',
    payload: { event: 'plan_created', data: {} },
  });
  const work = await manager.queueFor(entry, store.reader);
  expect(work).toMatchObject({ entries: [], calls: [{ payload: { text: 'execution_complete docs-bot' } }] });
  expect(await manager.queueFor(other, store.reader)).toMatchObject({
    entries: [{ type: 'finding.resolved' }],
    calls: [],
  });
  // Queued twice (a replay): the outbox keys the call by the entry, so nothing is added.
  for (let i = 0; i < 2; i++)
    await store.appendDecided(() => ({
      entries: [],
      followUps: work.calls.map((message) => ({ seq: entry.seq, message })),
    }));
  expect(ledger.outbox.dueFor('slack')).toMatchObject([
    { seq: entry.seq, payload: { text: 'execution_complete docs-bot' } },
  ]);
  expect(manager.subscriberNames()).toEqual(['slack', 'github']);
});

it.each([
  [{ status: 502 }, true],
  [{ status: 429 }, true],
  [{ status: 403, response: { headers: { 'x-ratelimit-remaining': '0' } } }, true],
  [{ status: 403, response: { headers: {} } }, false],
  [{ status: 404 }, false],
  [new Error('ECONNRESET'), true],
])('classifies %j as transient: %s', (error, transient) => {
  expect(isTransient(error)).toBe(transient);
});

it('waits as long as the service asks (Retry-After), else backs off exponentially', () => {
  const now = 1_000_000;
  expect(
    retryAt({ status: 429, response: { headers: { 'retry-after': '7' } } }, 1, now, {
      initialMs: 100,
      maxMs: 1000,
    }).getTime(),
  ).toBe(now + 7000);
  const first = retryAt({ status: 502 }, 1, now, { initialMs: 100, maxMs: 10_000 }).getTime() - now;
  const fifth = retryAt({ status: 502 }, 5, now, { initialMs: 100, maxMs: 10_000 }).getTime() - now;
  expect(first).toBeLessThanOrEqual(10_000);
  expect(fifth).toBeLessThanOrEqual(10_000);
  expect(createBreaker({ halfOpenAfterMs: 10, consecutiveFailures: 2 }).state).toBe(0);
});
