/** Ledger entries and outbox messages the ledger contract tests append, as small as the schema allows. */
import type { LedgerEntry, LedgerEntryInput } from '../../src/core/ledger-entries.js';
import type { OutboxMessageInput } from '../../src/ledger/outbox.js';

/** An entry told apart by its key (a resolved finding: no projection, no consequence). */
export const entry = (key: string): LedgerEntryInput => ({
  type: 'finding.resolved',
  agentId: null,
  actor: 'test',
  payload: { key },
});

/** The key of an `entry(key)`. */
export const keyOf = (e: LedgerEntry) => (e.payload as { key?: string }).key;

/** A GitHub call keyed `key`, in its own order unless `orderingKey` says otherwise. */
export const message = (key: string, orderingKey = key, payload: unknown = { key }): OutboxMessageInput => ({
  target: 'github',
  kind: 'check_run.upsert',
  idempotencyKey: key,
  orderingKey,
  payload,
});

/** A T1 agent `id` registered by alice. */
export const registered = (id: string): LedgerEntryInput => ({
  type: 'agent.registered',
  agentId: id,
  actor: 'alice',
  payload: {
    name: id,
    owner: null,
    tier: 'T1',
    identities: { githubLogins: [], trailers: [] },
    tokenHash: null,
  },
});

/** Agent `id` revoked by carol. */
export const revoked = (id: string): LedgerEntryInput => ({
  type: 'agent.status_changed',
  agentId: id,
  actor: 'carol',
  payload: { from: 'active', to: 'revoked', reason: 'leaked a key' },
});
