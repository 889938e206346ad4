import { describe, expect, it } from 'vitest';
import { RULE_IDS } from '../../src/core/policy/policy-schema.js';
import { type AgentRecordSummary, type SuggestionInputs, suggest } from '../../src/core/suggestions.js';

const agent = (patch: Partial<AgentRecordSummary> = {}): AgentRecordSummary => ({
  agentId: 'a',
  tier: 'T2',
  status: 'active',
  eligibleFor: null,
  eligibilityReasons: [],
  seriousViolations: 0,
  budgetUsed: 0,
  budgetLimit: 20,
  pendingPromotion: false,
  badOutcomes: [],
  ...patch,
});
const inputs = (patch: Partial<SuggestionInputs> = {}): SuggestionInputs => ({
  agents: [],
  heldByRule: [],
  firedRules: [...RULE_IDS],
  approvers: [],
  ...patch,
});
const kinds = (i: SuggestionInputs) =>
  suggest(i).map((s) => `${s.kind}:${'agentId' in s ? s.agentId : 'rule' in s ? s.rule : s.approver}`);

describe('suggestion engine', () => {
  it('suggests promoting an eligible agent, but not one already asked for, or with a bad outcome', () => {
    expect(kinds(inputs({ agents: [agent({ eligibleFor: 'T3' })] }))).toEqual(['promote:a']);
    expect(kinds(inputs({ agents: [agent({ eligibleFor: 'T3', pendingPromotion: true })] }))).toEqual([]);
    // Eligible on paper, but the record argues against it: a demotion, never both.
    expect(kinds(inputs({ agents: [agent({ eligibleFor: 'T3', budgetUsed: 17 })] }))).toEqual(['demote:a']);
    expect(
      kinds(inputs({ agents: [agent({ eligibleFor: 'T3', badOutcomes: ['acme/web#4 reverted by #9'] })] })),
    ).toEqual(['demote:a']);
  });

  it('suggests demoting after serious violations or a nearly spent budget, and stays silent otherwise', () => {
    expect(kinds(inputs({ agents: [agent({ seriousViolations: 2 })] }))).toEqual(['demote:a']);
    expect(kinds(inputs({ agents: [agent({ budgetUsed: 17 })] }))).toEqual(['demote:a']);
    expect(kinds(inputs({ agents: [agent({ seriousViolations: 1, budgetUsed: 10 })] }))).toEqual([]);
    expect(kinds(inputs({ agents: [agent({ tier: 'T0', seriousViolations: 5 })] }))).toEqual([]);
  });

  it('finds rules people always approve, and not those they sometimes reject', () => {
    const always = Array.from({ length: 5 }, () => ({ rule: 'dependencies', approved: true }));
    expect(kinds(inputs({ heldByRule: always }))).toEqual(['relax_rule:dependencies']);
    expect(kinds(inputs({ heldByRule: [...always, { rule: 'dependencies', approved: false }] }))).toEqual([]);
    expect(kinds(inputs({ heldByRule: always.slice(0, 4) }))).toEqual([]);
  });

  it('lists rules that never fire', () => {
    expect(kinds(inputs({ firedRules: RULE_IDS.filter((r) => r !== 'secrets') }))).toEqual([
      'unused_rule:secrets',
    ]);
  });

  it('names an approver who gives most approvals, and nobody when they are shared', () => {
    expect(kinds(inputs({ approvers: ['alice', 'alice', 'alice', 'alice', 'bob'] }))).toEqual([
      'approver_bottleneck:alice',
    ]);
    expect(kinds(inputs({ approvers: ['alice', 'bob', 'carol', 'alice', 'bob'] }))).toEqual([]);
  });
});
