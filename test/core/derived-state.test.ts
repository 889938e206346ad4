/**
 * The changes each ledger entry makes to the derived state (what the state store applies live and
 * restore replays), type by type, and that the types verify folds are exactly those with changes.
 */
import { describe, expect, it } from 'vitest';
import {
  applyStateChanges,
  emptyDerivedState,
  STATE_CHANGING_TYPES,
  stateChangesFor,
} from '../../src/core/derived-state.js';
import {
  LEDGER_ENTRY_TYPES,
  type LedgerEntry,
  type LedgerEntryType,
  type LedgerPayload,
} from '../../src/core/ledger-entries.js';

const TS = '2026-11-24T12:00:00.000Z';

function entry<T extends LedgerEntryType>(
  type: T,
  payload: LedgerPayload<T>,
  agentId: string | null = 'docs-bot',
): LedgerEntry {
  return { seq: 7, ts: TS, type, agentId, actor: 'alice', payload, prevHash: '', hash: '' } as LedgerEntry;
}

const registered = entry('agent.registered', {
  name: 'Docs bot',
  owner: 'alice',
  tier: 'T1',
  identities: { githubLogins: ['docs-bot[bot]'], trailers: [] },
  tokenHash: 'h1',
});
const violation = (budgetCharge: number, agentId: string | null = 'docs-bot') =>
  entry(
    'violation.recorded',
    {
      violation: 'diff_size_exceeded',
      severity: 'low',
      consequence: 'charge_budget',
      budgetCharge,
      details: 'big',
      source: 'github',
    },
    agentId,
  );
const requested = (agentId: string | null) =>
  entry(
    'approval.requested',
    { approvalId: 'a1', subject: 'acme/web#1', required: 2, expiresAt: '2026-11-27T12:00:00.000Z' },
    agentId,
  );

describe('stateChangesFor', () => {
  it.each([
    [
      'a registration puts the agent, active, at its tier since now',
      registered,
      [
        {
          kind: 'put_agent',
          agent: {
            id: 'docs-bot',
            name: 'Docs bot',
            owner: 'alice',
            tier: 'T1',
            status: 'active',
            identities: { githubLogins: ['docs-bot[bot]'], trailers: [] },
            tokenHash: 'h1',
            registeredAt: TS,
            tierSince: TS,
          },
        },
      ],
    ],
    [
      'a token rotation patches the token hash',
      entry('agent.token_rotated', { tokenHash: 'h2' }),
      [{ kind: 'patch_agent', agentId: 'docs-bot', patch: { tokenHash: 'h2' } }],
    ],
    [
      'a revocation patches the status and raises the revoke signal',
      entry('agent.status_changed', { from: 'active', to: 'revoked', reason: 'leak' }),
      [
        { kind: 'patch_agent', agentId: 'docs-bot', patch: { status: 'revoked' } },
        {
          kind: 'set_revoke_signal',
          signal: { agentId: 'docs-bot', reason: 'leak', actor: 'alice', at: TS, seq: 7 },
        },
      ],
    ],
    [
      'a reinstatement patches the status and clears the revoke signal',
      entry('agent.status_changed', { from: 'revoked', to: 'active', reason: 'cleared' }),
      [
        { kind: 'patch_agent', agentId: 'docs-bot', patch: { status: 'active' } },
        { kind: 'clear_revoke_signal', agentId: 'docs-bot' },
      ],
    ],
    [
      'a pause patches the status only',
      entry('agent.status_changed', { from: 'active', to: 'suspended', reason: 'pause' }),
      [{ kind: 'patch_agent', agentId: 'docs-bot', patch: { status: 'suspended' } }],
    ],
    [
      'a tier change patches the tier and restarts its clock',
      entry('agent.tier_changed', { from: 'T1', to: 'T2', reason: 'r', kind: 'promotion' }),
      [{ kind: 'patch_agent', agentId: 'docs-bot', patch: { tier: 'T2', tierSince: TS } }],
    ],
    [
      'a violation with a charge charges the budget once, keyed by its sequence',
      violation(3),
      [
        {
          kind: 'charge_budget',
          agentId: 'docs-bot',
          charge: { id: 'seq-7', amount: 3, at: Date.parse(TS) },
        },
      ],
    ],
    ['a violation without a charge changes nothing', violation(0), []],
    ['a violation without an agent changes nothing', violation(3, null), []],
    [
      'an approval request waits, with or without an agent',
      requested(null),
      [
        {
          kind: 'add_pending_approval',
          approval: {
            approvalId: 'a1',
            agentId: null,
            subject: 'acme/web#1',
            required: 2,
            expiresAt: '2026-11-27T12:00:00.000Z',
          },
        },
      ],
    ],
    [
      'a resolved approval stops waiting',
      entry('approval.resolved', { approvalId: 'a1', outcome: 'approved' }),
      [{ kind: 'remove_pending_approval', approvalId: 'a1' }],
    ],
  ])('%s', (_name, input, changes) => {
    expect(stateChangesFor(input)).toEqual(changes);
  });

  it.each(['agent.registered', 'agent.token_rotated', 'agent.status_changed', 'agent.tier_changed'] as const)(
    '%s without an agent changes nothing',
    (type) => {
      expect(stateChangesFor(entry(type, {} as never, null))).toEqual([]);
    },
  );

  it('changes nothing for every type verify does not fold, whatever the payload', () => {
    const folded = new Set<string>(STATE_CHANGING_TYPES);
    const others = LEDGER_ENTRY_TYPES.filter((type) => !folded.has(type));
    expect(others.length).toBeGreaterThan(0);
    for (const type of others) expect(stateChangesFor(entry(type, {} as never))).toEqual([]);
  });

  it('keeps budget charges in time order, equal times by id, whatever order they come in', () => {
    const state = emptyDerivedState();
    const charge = (id: string, at: number) => ({
      kind: 'charge_budget' as const,
      agentId: 'a',
      charge: { id, amount: 1, at },
    });
    applyStateChanges(state, [
      charge('seq-9', 5),
      charge('seq-10', 5),
      charge('seq-2', 3),
      charge('seq-8', 5),
    ]);
    applyStateChanges(state, [charge('seq-11', 7), charge('seq-1', 1), charge('seq-10', 5)]);
    expect(state.budgets.a!.map((c) => c.id)).toEqual([
      'seq-1',
      'seq-2',
      'seq-10',
      'seq-8',
      'seq-9',
      'seq-11',
    ]);
  });

  it('replays to the state the changes describe', () => {
    const state = emptyDerivedState();
    for (const e of [registered, requested('docs-bot'), violation(3), violation(3)]) {
      applyStateChanges(state, stateChangesFor(e));
    }
    expect(state.agents['docs-bot']?.status).toBe('active');
    expect(state.budgets['docs-bot']).toEqual([{ id: 'seq-7', amount: 3, at: Date.parse(TS) }]);
    expect(Object.keys(state.pendingApprovals)).toEqual(['a1']);
  });
});
