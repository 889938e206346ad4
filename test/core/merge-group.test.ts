import { describe, expect, it } from 'vitest';
import { type MergeGroupMember, memberVerdict, mergeGroupVerdict } from '../../src/core/merge-group.js';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);

function member(patch: Partial<MergeGroupMember> = {}): MergeGroupMember {
  return {
    number: 2,
    headSha: A,
    decision: { headSha: A, outcome: 'allow', agentId: 'docs-bot' },
    agent: { id: 'docs-bot', status: 'active' },
    ...patch,
  };
}

describe('a PR in a merge group', () => {
  it.each([
    ['an active agent allowed at its head', member(), true, 'allow'],
    [
      'an unknown author at its head',
      member({ decision: { headSha: A, outcome: 'not_agent', agentId: null }, agent: null }),
      true,
      'not_agent',
    ],
    [
      'a revoked agent allowed before',
      member({ agent: { id: 'docs-bot', status: 'revoked' } }),
      false,
      'agent `docs-bot` is revoked',
    ],
    [
      'a suspended agent',
      member({ agent: { id: 'docs-bot', status: 'suspended' } }),
      false,
      'agent `docs-bot` is suspended',
    ],
    [
      'an agent the ledger does not know',
      member({ agent: { id: 'ghost', status: null } }),
      false,
      'agent `ghost` is not registered',
    ],
    ['no decision', member({ decision: null }), false, 'no decision is recorded'],
    [
      'a decision at an older head',
      member({ headSha: B }),
      false,
      'decided at aaaaaaa, but its head is bbbbbbb',
    ],
    [
      'an unknown author who is an agent now',
      member({ decision: { headSha: A, outcome: 'not_agent', agentId: null } }),
      false,
      'its author is agent `docs-bot` now, and no decision judged that agent',
    ],
    [
      'waiting for approval',
      member({ decision: { headSha: A, outcome: 'require_approval', agentId: 'docs-bot' } }),
      false,
      'require_approval',
    ],
    ['denied', member({ decision: { headSha: A, outcome: 'deny', agentId: 'docs-bot' } }), false, 'deny'],
    [
      'pending',
      member({ decision: { headSha: A, outcome: 'pending', agentId: 'docs-bot' } }),
      false,
      'pending',
    ],
  ])('%s', (_name, m, passed, reason) => {
    expect(memberVerdict(m)).toMatchObject({ passed, reason });
  });
});

describe('a merge group', () => {
  it('passes only when every PR passes, naming each that does not', () => {
    const ok = mergeGroupVerdict([member(), member({ number: 3, decision: null })], null);
    expect(ok).toMatchObject({ conclusion: 'failure', title: 'PR #3 has not passed Agent Governance' });
    expect(mergeGroupVerdict([member(), member({ number: 3 })], null)).toMatchObject({
      conclusion: 'success',
      title: 'Every PR in this merge group passed Agent Governance',
    });
  });

  it('fails when its PRs are unknown, with the reason', () => {
    expect(mergeGroupVerdict([], null)).toMatchObject({
      conclusion: 'failure',
      title: 'The PRs in this merge group could not be determined',
    });
    expect(mergeGroupVerdict([member()], 'GitHub said 404.').summary).toContain('GitHub said 404.');
  });
});
