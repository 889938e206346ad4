/**
 * The one tally, called directly: which receipts count, who may still approve, and the order in
 * which a gate's states win over each other (veto, rejection, approval, expiry, unreachable).
 */
import { describe, expect, it } from 'vitest';
import { directoryOf } from '../../../src/core/people.js';
import type { ApprovalReceipt } from '../../../src/core/policy/decision.js';
import { type GateRule, pullRequestSubject, tallyGate } from '../../../src/core/policy/gate-tally.js';

const ASKED = '2026-11-20T00:00:00.000Z';
const BEFORE_DEADLINE = new Date('2026-11-20T12:00:00.000Z');
const AFTER_DEADLINE = new Date('2026-11-25T00:00:00.000Z');

const directory = directoryOf(
  [
    { github: 'alice', teams: ['web'] },
    { github: 'bob', teams: ['web'] },
    { github: 'carol', teams: ['infra'] },
    { github: 'dave', teams: ['data'] },
    { github: 'olivia', teams: ['web'] },
  ],
  ['builder-bot'],
);

const rule = (over: Partial<GateRule> = {}): GateRule => ({
  gate: 'security',
  approvals: 2,
  council: false,
  veto: false,
  distinctTeams: false,
  eligible: ['alice', 'bob', 'carol'],
  unmapped: [],
  allowOwner: false,
  survivePush: false,
  githubReviews: true,
  expiryHours: 72,
  onExpiry: 'reject',
  ...over,
});

const subject = pullRequestSubject({
  headSha: 'h1',
  diffHash: 'd1',
  policyVersion: 'v1',
  owner: 'olivia',
  author: 'builder-bot[bot]',
  requestedAt: ASKED,
});

const vote = (
  approver: string,
  verdict: 'approve' | 'reject',
  over: Partial<ApprovalReceipt> = {},
): ApprovalReceipt => ({
  approver,
  verdict,
  gate: 'security',
  headSha: 'h1',
  diffHash: 'd1',
  policyVersion: 'v1',
  source: 'slack',
  at: '2026-11-20T01:00:00.000Z',
  ...over,
});

const tally = (r: GateRule, receipts: ApprovalReceipt[], now = BEFORE_DEADLINE) =>
  tallyGate(r, receipts, subject, directory, now);

describe('tallyGate: which state wins', () => {
  it.each([
    [
      'a council with a veto: one no stops it, approvals or not',
      rule({ council: true, veto: true }),
      [vote('alice', 'approve'), vote('bob', 'approve'), vote('carol', 'reject')],
      'vetoed',
    ],
    [
      'a plain gate: a rejection rejects even with enough approvals',
      rule(),
      [vote('alice', 'approve'), vote('bob', 'approve'), vote('carol', 'reject')],
      'rejected',
    ],
    [
      'a council without a veto: a no is one vote, the quorum is still reachable',
      rule({ council: true, approvals: 1 }),
      [vote('carol', 'reject')],
      'waiting',
    ],
    [
      'a council without a veto: a no that leaves the quorum out of reach rejects',
      rule({ council: true, approvals: 3 }),
      [vote('carol', 'reject')],
      'rejected',
    ],
    [
      'a council without a veto: enough approvals win over a no',
      rule({ council: true }),
      [vote('alice', 'approve'), vote('bob', 'approve'), vote('carol', 'reject')],
      'approved',
    ],
    ['nobody named: unreachable', rule({ eligible: [] }), [], 'unreachable'],
  ] as const)('%s', (_name, r, receipts, state) => {
    expect(tally(r, [...receipts]).state).toBe(state);
  });

  it('approvals given in time approve, even once the deadline has passed', () => {
    expect(tally(rule(), [vote('alice', 'approve'), vote('bob', 'approve')], AFTER_DEADLINE).state).toBe(
      'approved',
    );
  });

  it('past the deadline: expired under on_expiry reject, escalated and waiting under escalate', () => {
    expect(tally(rule(), [vote('alice', 'approve')], AFTER_DEADLINE)).toMatchObject({
      state: 'expired',
      expiresAt: '2026-11-23T00:00:00.000Z',
      mayApprove: [],
    });
    expect(tally(rule({ onExpiry: 'escalate' }), [vote('alice', 'approve')], AFTER_DEADLINE)).toMatchObject({
      state: 'waiting',
      escalated: true,
      missing: 1,
      mayApprove: ['bob', 'carol'],
    });
  });
});

describe('tallyGate: which receipts count', () => {
  it('says why each receipt that does not count is left out', () => {
    const result = tally(
      rule({ eligible: ['alice', 'bob', 'olivia', 'builder-bot[bot]'], githubReviews: false }),
      [
        vote('builder-bot[bot]', 'approve'),
        vote('olivia', 'approve'),
        vote('mallory', 'approve'),
        vote('alice', 'approve', { source: 'github_review' }),
        vote('bob', 'approve', { at: '2026-11-24T00:00:00.000Z' }),
      ],
    );
    expect(result.notCounted).toEqual([
      { approver: 'builder-bot[bot]', reason: 'an agent never approves' },
      { approver: 'olivia', reason: "the agent's owner may not approve this gate" },
      { approver: 'mallory', reason: 'not a named approver of gate `security`' },
      { approver: 'alice', reason: 'GitHub reviews do not count for gate `security`' },
      { approver: 'bob', reason: 'given after the deadline' },
    ]);
    expect(result.approvedBy).toEqual([]);
  });

  it('leaves out receipts about another gate, head, diff or policy without a word', () => {
    const result = tally(rule(), [
      vote('alice', 'approve', { gate: 'platform' }),
      vote('alice', 'approve', { headSha: 'h0' }),
      vote('bob', 'approve', { diffHash: 'd0' }),
      vote('carol', 'approve', { policyVersion: 'v0' }),
    ]);
    expect(result).toMatchObject({ state: 'waiting', approvedBy: [], notCounted: [], missing: 2 });
    expect(
      tally(rule({ survivePush: true }), [vote('alice', 'approve', { headSha: 'h0' })]).approvedBy,
    ).toEqual(['alice']);
  });

  it("counts each person's newest verdict, whichever channel it came through", () => {
    const result = tally(rule(), [vote('alice', 'approve'), vote('ALICE', 'reject', { source: 'cli' })]);
    expect(result).toMatchObject({ state: 'rejected', approvedBy: [], rejectedBy: ['ALICE'] });
  });

  it('with distinct teams, counts one approval per team and asks only teams not yet counted', () => {
    const r = rule({ council: true, distinctTeams: true, eligible: ['alice', 'bob', 'carol', 'dave'] });
    expect(tally(r, [vote('alice', 'approve'), vote('bob', 'approve')])).toMatchObject({
      state: 'waiting',
      approvedBy: ['alice'],
      missing: 1,
      mayApprove: ['carol', 'dave'],
    });
    const sameTeam = rule({ council: true, distinctTeams: true, approvals: 2, eligible: ['alice', 'bob'] });
    expect(tally(sameTeam, [vote('alice', 'approve')]).state).toBe('unreachable');
  });
});
