/**
 * Promotion rules: when an agent's record earns the next tier, and what approval a move needs.
 * Pure: the record is read from the ledger by the caller.
 */
import type { OrgConfig } from './org-config.js';
import type { TierId } from './tiers.js';

export interface PromotionThresholds {
  minMergedPrs: number;
  minDaysAtTier: number;
  /** Days without a high or critical violation. */
  cleanDays: number;
}

export const DEFAULT_THRESHOLDS: Readonly<Record<TierId, PromotionThresholds>> = {
  T0: { minMergedPrs: 0, minDaysAtTier: 0, cleanDays: 0 },
  T1: { minMergedPrs: 0, minDaysAtTier: 1, cleanDays: 7 },
  T2: { minMergedPrs: 5, minDaysAtTier: 7, cleanDays: 14 },
  T3: { minMergedPrs: 20, minDaysAtTier: 30, cleanDays: 30 },
  T4: { minMergedPrs: 50, minDaysAtTier: 90, cleanDays: 60 },
};

export const DEFAULT_APPROVALS: Readonly<Record<TierId, number | 'council'>> = {
  T0: 1,
  T1: 1,
  T2: 1,
  T3: 2,
  T4: 'council',
};

export interface AgentRecordFacts {
  tier: TierId;
  tierSince: string;
  mergedPrsAtTier: number;
  lastSeriousViolationAt: string | null;
  /** The latest merged PR of the agent that was reverted or broke the default branch. */
  lastBadOutcomeAt: string | null;
  budgetUsed: number;
  budgetLimit: number;
}

/** Thresholds to reach `target` (read from the organisation config, else the defaults). */
export function thresholdsFor(config: OrgConfig, target: TierId): PromotionThresholds {
  const o =
    (
      config.promotion.thresholds as Partial<
        Record<TierId, { min_merged_prs?: number; min_days_at_tier?: number; clean_days?: number }>
      >
    )[target] ?? {};
  const d = DEFAULT_THRESHOLDS[target];
  return {
    minMergedPrs: o.min_merged_prs ?? d.minMergedPrs,
    minDaysAtTier: o.min_days_at_tier ?? d.minDaysAtTier,
    cleanDays: o.clean_days ?? d.cleanDays,
  };
}

export function approvalsFor(config: OrgConfig, target: TierId): { required: number; council: boolean } {
  const a =
    (config.promotion.approvals as Partial<Record<TierId, number | 'council'>>)[target] ??
    DEFAULT_APPROVALS[target];
  if (a === 'council')
    return config.council
      ? { required: config.council.quorum, council: true }
      : { required: 2, council: false };
  return { required: a, council: false };
}

export function promotionEligibility(
  facts: AgentRecordFacts,
  t: PromotionThresholds,
  now: Date,
): { eligible: boolean; reasons: string[] } {
  const days = (now.getTime() - Date.parse(facts.tierSince)) / 86_400_000;
  const clean = facts.lastSeriousViolationAt
    ? (now.getTime() - Date.parse(facts.lastSeriousViolationAt)) / 86_400_000
    : Number.POSITIVE_INFINITY;
  const reasons: string[] = [];
  if (facts.mergedPrsAtTier < t.minMergedPrs)
    reasons.push(`${facts.mergedPrsAtTier} merged PRs at ${facts.tier}, needs ${t.minMergedPrs}`);
  if (days < t.minDaysAtTier)
    reasons.push(`${days.toFixed(1)} days at ${facts.tier}, needs ${t.minDaysAtTier}`);
  if (clean < t.cleanDays)
    reasons.push(
      `a high or critical violation ${clean.toFixed(1)} days ago, needs ${t.cleanDays} clean days`,
    );
  const sinceBad = facts.lastBadOutcomeAt
    ? (now.getTime() - Date.parse(facts.lastBadOutcomeAt)) / 86_400_000
    : Number.POSITIVE_INFINITY;
  if (sinceBad < t.cleanDays)
    reasons.push(
      `a merged PR reverted or broke the default branch ${sinceBad.toFixed(1)} days ago, needs ${t.cleanDays} clean days`,
    );
  if (facts.budgetUsed >= facts.budgetLimit)
    reasons.push(`error budget exhausted (${facts.budgetUsed} of ${facts.budgetLimit})`);
  return { eligible: reasons.length === 0, reasons };
}
