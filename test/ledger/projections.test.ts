/**
 * What each entry type writes to the projection tables, type by type, through a real ledger: the
 * rows people's queries read (promotions history, metrics, decisions, approvals), and that verify,
 * replaying the chain with the same code, finds them equal.
 */
import { describe, expect, it } from 'vitest';
import { dbOf, Ledger } from '../../src/ledger/ledger.js';
import { openLedgerDb } from '../../src/ledger/open-ledger-db.js';
import { PROJECTED_TYPES } from '../../src/ledger/projections.js';
import { verifyLedger } from '../../src/ledger/verify.js';
import { AGENT, projectionHistory } from './projection-history.js';

const TS = '2026-11-24T12:00:00.000Z';

function newLedger() {
  return new Ledger(openLedgerDb(':memory:'), () => new Date(TS));
}

const HISTORY = projectionHistory(AGENT);

describe('projections', () => {
  const ledger = newLedger();
  ledger.appendAll(HISTORY);
  const db = dbOf(ledger);

  it('writes the promotions history: requests, votes, rejections, tier moves, revocation steps', () => {
    expect(
      db
        .prepare('SELECT seq, kind, step, from_tier, to_tier, actor, reason FROM promotions ORDER BY seq')
        .all(),
    ).toEqual([
      {
        seq: 8,
        kind: 'promotion',
        step: 'requested',
        from_tier: 'T1',
        to_tier: 'T2',
        actor: 'alice',
        reason: 'p1: ready',
      },
      {
        seq: 9,
        kind: 'vote',
        step: 'approved',
        from_tier: null,
        to_tier: null,
        actor: 'alice',
        reason: 'p1: ok',
      },
      {
        seq: 10,
        kind: 'vote',
        step: 'rejected',
        from_tier: null,
        to_tier: null,
        actor: 'alice',
        reason: 'p1: no',
      },
      {
        seq: 11,
        kind: 'resolution',
        step: 'rejected',
        from_tier: null,
        to_tier: null,
        actor: 'alice',
        reason: 'p1: vetoed',
      },
      {
        seq: 13,
        kind: 'promotion',
        step: 'applied',
        from_tier: 'T1',
        to_tier: 'T2',
        actor: 'alice',
        reason: 'promoted',
      },
      {
        seq: 14,
        kind: 'revocation',
        step: 'requested',
        from_tier: null,
        to_tier: null,
        actor: 'alice',
        reason: 'r1: leak',
      },
      {
        seq: 15,
        kind: 'revocation',
        step: 'applied',
        from_tier: null,
        to_tier: null,
        actor: 'alice',
        reason: 'leak',
      },
      {
        seq: 16,
        kind: 'revocation',
        step: 'vault: held',
        from_tier: null,
        to_tier: null,
        actor: 'alice',
        reason: 'r1: destroyed',
      },
      {
        seq: 17,
        kind: 'revocation',
        step: 'slack: failed',
        from_tier: null,
        to_tier: null,
        actor: 'alice',
        reason: 'r1: timeout',
      },
      {
        seq: 18,
        kind: 'revocation',
        step: 'confirmed',
        from_tier: null,
        to_tier: null,
        actor: 'alice',
        reason: 'r1',
      },
      {
        seq: 20,
        kind: 'reinstatement',
        step: 'applied',
        from_tier: null,
        to_tier: null,
        actor: 'alice',
        reason: 'cleared',
      },
    ]);
  });

  it('keeps the agent metrics: tier, status, token, merges, violations', () => {
    expect(db.prepare('SELECT * FROM agent_metrics').all()).toEqual([
      {
        agent_id: AGENT,
        tier: 'T2',
        status: 'suspended',
        registered_at: TS,
        tier_since: TS,
        merged_prs_at_tier: 0,
        merged_prs_total: 1,
        violations_total: 2,
        last_serious_violation_at: TS,
        token_hash: 'h2',
      },
    ]);
    expect(db.prepare('SELECT seq, type, severity FROM violations ORDER BY seq').all()).toEqual([
      { seq: 7, type: 'diff_size_exceeded', severity: 'low' },
      { seq: 19, type: 'secret_exposure', severity: 'critical' },
    ]);
  });

  it('records decisions and approvals by pull request, with or without an agent', () => {
    expect(db.prepare('SELECT seq, number, agent_id, outcome FROM decisions ORDER BY seq').all()).toEqual([
      { seq: 3, number: 1, agent_id: AGENT, outcome: 'require_approval' },
      { seq: 4, number: 2, agent_id: null, outcome: 'require_approval' },
    ]);
    expect(db.prepare('SELECT seq, approver, verdict, gate, source FROM approvals').all()).toEqual([
      { seq: 5, approver: 'bob', verdict: 'approve', gate: 'security', source: 'slack' },
    ]);
  });

  it('adds an action row for every entry with an agent, and nothing for one without', () => {
    const actions = db.prepare('SELECT seq FROM agent_actions ORDER BY seq').pluck().all();
    expect(actions).toEqual([1, 2, 3, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22]);
  });

  it('is what verify rebuilds from the chain', () => {
    expect(verifyLedger(db)).toMatchObject({ ok: true, checked: HISTORY.length });
  });

  it('writes beyond an action row only for the types verify replays (PROJECTED_TYPES)', () => {
    const fresh = newLedger();
    const freshDb = dbOf(fresh);
    const tables = ['agent_metrics', 'violations', 'promotions', 'decisions', 'approvals'];
    const contents = () => tables.map((t) => freshDb.prepare(`SELECT * FROM ${t}`).all());
    const replayed = new Set<string>(PROJECTED_TYPES);
    const writers = new Set<string>();
    for (const input of HISTORY) {
      const before = JSON.stringify(contents());
      fresh.append(input);
      if (JSON.stringify(contents()) !== before) writers.add(input.type);
    }
    expect([...writers].filter((type) => !replayed.has(type))).toEqual([]);
    expect(writers.size).toBe(14);
  });
});
