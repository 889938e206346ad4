/**
 * The suggestion engine: from the record, what people might change, each with its evidence.
 * Pure; `src/watchers/suggest.ts` reads the ledger into these inputs.
 */
import type { RuleId } from './policy/policy-schema.js';
import { RULE_IDS } from './policy/policy-schema.js';
import type { TierId } from './tiers.js';

export interface AgentRecordSummary {
  agentId: string;
  tier: TierId;
  status: string;
  eligibleFor: TierId | null;
  eligibilityReasons: string[];
  seriousViolations: number;
  budgetUsed: number;
  budgetLimit: number;
  pendingPromotion: boolean;
  /** Merged PRs later reverted, or that broke the default branch's CI: one line of evidence each. */
  badOutcomes: string[];
}

export interface SuggestionInputs {
  agents: AgentRecordSummary[];
  /** Each rule that held a PR for approval, and whether people then approved it. */
  heldByRule: { rule: string; approved: boolean }[];
  /** Every rule that fired in the window. */
  firedRules: string[];
  /** Approver of each approval in the window. */
  approvers: string[];
}

export type Suggestion =
  | { kind: 'promote'; agentId: string; to: TierId; evidence: string[] }
  | { kind: 'demote'; agentId: string; evidence: string[] }
  | { kind: 'relax_rule'; rule: string; evidence: string[] }
  | { kind: 'unused_rule'; rule: RuleId; evidence: string[] }
  | { kind: 'approver_bottleneck'; approver: string; evidence: string[] };

export function suggest(
  inputs: SuggestionInputs,
  min = { approvedHolds: 5, approvals: 5, share: 0.6 },
): Suggestion[] {
  return [
    ...inputs.agents.flatMap(agentSuggestions),
    ...relaxRuleSuggestions(inputs.heldByRule, min.approvedHolds),
    ...unusedRuleSuggestions(inputs.firedRules),
    ...bottleneckSuggestions(inputs.approvers, min),
  ];
}

/** Promote an agent every threshold favours, or demote one its record argues against. */
function agentSuggestions(a: AgentRecordSummary): Suggestion[] {
  const reasons: string[] = [];
  if (a.seriousViolations >= 2)
    reasons.push(`${a.seriousViolations} high or critical violations in the window`);
  if (a.budgetUsed >= 0.8 * a.budgetLimit) reasons.push(`budget ${a.budgetUsed} of ${a.budgetLimit} used`);
  if (a.badOutcomes.length > 0)
    reasons.push(
      `${a.badOutcomes.length} merged PR(s) reverted or broke the default branch: ${a.badOutcomes.join('; ')}`,
    );
  const out: Suggestion[] = [];
  // An agent the record argues against is never also suggested for promotion.
  if (a.status === 'active' && a.eligibleFor && !a.pendingPromotion && reasons.length === 0) {
    out.push({
      kind: 'promote',
      agentId: a.agentId,
      to: a.eligibleFor,
      evidence: [
        `${a.tier} → ${a.eligibleFor}: every threshold met`,
        `budget ${a.budgetUsed} of ${a.budgetLimit}`,
      ],
    });
  }
  if (a.status === 'active' && a.tier !== 'T0' && reasons.length)
    out.push({ kind: 'demote', agentId: a.agentId, evidence: reasons });
  return out;
}

/** A rule whose every hold people approved, often enough: it asks them for nothing. */
function relaxRuleSuggestions(held: SuggestionInputs['heldByRule'], minHolds: number): Suggestion[] {
  const byRule = new Map<string, { approved: number; total: number }>();
  for (const h of held) {
    const r = byRule.get(h.rule) ?? { approved: 0, total: 0 };
    r.total++;
    if (h.approved) r.approved++;
    byRule.set(h.rule, r);
  }
  return [...byRule]
    .filter(([, r]) => r.total >= minHolds && r.approved === r.total)
    .map(([rule, r]) => ({
      kind: 'relax_rule',
      rule,
      evidence: [`held ${r.total} PRs for approval; people approved all ${r.total}`],
    }));
}

/** A rule that never fired in the window: perhaps it checks for nothing that happens. */
function unusedRuleSuggestions(firedRules: readonly string[]): Suggestion[] {
  const fired = new Set(firedRules);
  return RULE_IDS.filter((rule) => !fired.has(rule)).map((rule) => ({
    kind: 'unused_rule',
    rule,
    evidence: ['never fired in the window'],
  }));
}

/** One approver giving more than `share` of the approvals: the gates wait on one person. */
function bottleneckSuggestions(
  approvers: readonly string[],
  min: { approvals: number; share: number },
): Suggestion[] {
  const counts = new Map<string, number>();
  for (const a of approvers) counts.set(a, (counts.get(a) ?? 0) + 1);
  return [...counts]
    .filter(([, n]) => approvers.length >= min.approvals && n / approvers.length > min.share)
    .map(([approver, n]) => ({
      kind: 'approver_bottleneck',
      approver,
      evidence: [`${n} of ${approvers.length} approvals`],
    }));
}

/** One line: what to change, then its evidence. */
export function describeSuggestion(s: Suggestion): string {
  const subject =
    s.kind === 'promote'
      ? `promote ${s.agentId} to ${s.to}`
      : s.kind === 'demote'
        ? `demote ${s.agentId}`
        : s.kind === 'relax_rule'
          ? `relax rule ${s.rule}`
          : s.kind === 'unused_rule'
            ? `rule ${s.rule} never fires`
            : `approver ${s.approver} is a bottleneck`;
  return `${subject}: ${s.evidence.join('; ')}`;
}
