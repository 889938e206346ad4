/** The decision page rendered from a view: every state a gate can be in reads as what it means. */
import { describe, expect, it } from 'vitest';
import { directoryOf } from '../../src/core/people.js';
import type { ApprovalReceipt } from '../../src/core/policy/decision.js';
import { type GateRule, tallyGate } from '../../src/core/policy/gate-tally.js';
import { decisionPage } from '../../src/web/decision-page.js';
import type { DecisionView } from '../../src/web/decision-view.js';
import { gateRule, HEAD } from './web-helpers.js';

const NOW = new Date('2026-11-27T12:00:00Z');
const directory = directoryOf(
  [{ github: 'alice' }, { github: 'bob' }, { github: 'carol' }],
  ['builder-bot[bot]'],
);

function receipt(approver: string, verdict: 'approve' | 'reject', gate: string): ApprovalReceipt {
  return {
    approver,
    verdict,
    gate,
    headSha: HEAD,
    diffHash: 'dh',
    policyVersion: 'pv',
    source: 'slack',
    at: '2026-11-27T11:00:00Z',
  };
}

function render(rule: GateRule, receipts: ApprovalReceipt[], requestedAt = '2026-11-27T10:00:00Z'): string {
  const tally = tallyGate(
    rule,
    receipts,
    { headSha: HEAD, diffHash: 'dh', policyVersion: 'pv', owner: null, excluded: [], requestedAt },
    directory,
    NOW,
  );
  const entry = {
    seq: 1,
    ts: '2026-11-27T10:00:00Z',
    type: 'decision.recorded',
    hash: 'h'.repeat(64),
    prevHash: '0'.repeat(64),
    agentId: 'builder-bot',
    payload: {
      repository: 'octo/widgets',
      number: 7,
      headSha: HEAD,
      outcome: 'require_approval' as const,
      summary: 'Waiting',
      tier: 'T2' as const,
      policyVersion: 'pv',
      diffHash: 'dh',
      trigger: 'test',
      rules: [],
    },
  };
  const view: DecisionView = {
    repository: 'octo/widgets',
    number: 7,
    latest: entry,
    history: [entry],
    receipts: [],
    gates: [{ rule, tally, counted: receipts.filter((r) => tally.approvedBy.includes(r.approver)) }],
    agent: { id: 'builder-bot', owner: null, status: 'active' },
    chain: { ok: true, upTo: 1 },
    now: NOW,
  };
  return decisionPage(view, { login: 'alice', admin: false })
    .text.replace(/<[^>]+>/g, ' ')
    .replace(/&#96;/g, '`')
    .replace(/\s+/g, ' ');
}

describe('each gate state', () => {
  it('approved: by whom, under which head and policy; nothing still needed', () => {
    const text = render(gateRule('security', ['alice', 'bob']), [receipt('bob', 'approve', 'security')]);
    expect(text).toContain('Gate security : approved');
    expect(text).toContain('bob via slack at 2026-11-27 11:00:00Z , under head bbbbbbb and policy pv');
    expect(text).toContain('Still needed nothing');
  });

  it('waiting: how many more and from whom, with the deadline', () => {
    const text = render(gateRule('security', ['alice', 'bob'], 2), [receipt('bob', 'approve', 'security')]);
    expect(text).toContain('Gate security : waiting');
    expect(text).toContain('Still needed 1 more, from: alice');
    expect(text).toContain('Deadline 2026-11-30 10:00:00Z (then it is rejected)');
  });

  it('rejected: by whom', () => {
    const text = render(gateRule('security', ['alice', 'bob']), [receipt('alice', 'reject', 'security')]);
    expect(text).toContain('Gate security : rejected');
    expect(text).toContain('Rejected by alice');
  });

  it('vetoed: a council member said no', () => {
    const rule = { ...gateRule('council', ['alice', 'bob', 'carol'], 2), council: true, veto: true };
    const text = render(rule, [
      receipt('alice', 'approve', 'council'),
      receipt('carol', 'reject', 'council'),
    ]);
    expect(text).toContain('Gate council : vetoed');
    expect(text).toContain('Needs 2 approval(s) from the council');
  });

  it('expired: past the deadline without enough approvals; expiry never approves', () => {
    const text = render(gateRule('security', ['alice']), [], '2026-11-20T00:00:00Z');
    expect(text).toContain('Gate security : expired');
    expect(text).toContain('expiry never approves');
  });

  it('escalated: past the deadline under on_expiry escalate, still waiting', () => {
    const rule = { ...gateRule('security', ['alice']), onExpiry: 'escalate' as const };
    const text = render(rule, [], '2026-11-20T00:00:00Z');
    expect(text).toContain('Gate security : waiting');
    expect(text).toContain('(then the admins are told) — past the deadline, escalated');
  });

  it('unreachable: nobody named may approve; receipts that do not count say why', () => {
    const text = render(gateRule('security', []), [receipt('builder-bot[bot]', 'approve', 'security')]);
    expect(text).toContain('Gate security : unreachable');
    expect(text).toContain('no approvers are configured for gate `security`');
    expect(text).toContain('Not counted builder-bot[bot]: an agent never approves');
    expect(text).toContain('Still needed 1 more, from: nobody left who may approve');
  });
});
