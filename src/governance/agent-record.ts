import type { AgentRecordFacts } from '../core/promotion.js';
import type { TierId } from '../core/tiers.js';
import type { Governance } from './governance.js';

/** An agent's row in the `agent_metrics` projection. */
export interface AgentMetricsRow {
  agent_id: string;
  tier: TierId;
  status: string;
  tier_since: string;
  merged_prs_at_tier: number;
  last_serious_violation_at: string | null;
}

export const AGENT_METRICS_COLUMNS =
  'agent_id, tier, status, tier_since, merged_prs_at_tier, last_serious_violation_at';

/** The record promotion eligibility is judged on, read from the ledger's projections. */
export function agentRecordFacts(g: Governance, row: AgentMetricsRow, now: Date): AgentRecordFacts {
  const db = g.ledger.db;
  const windowStart = new Date(now.getTime() - g.config.budgets.window_hours * 3600_000).toISOString();
  const used = db
    .prepare('SELECT COALESCE(SUM(budget_charge), 0) AS n FROM violations WHERE agent_id = ? AND ts >= ?')
    .get(row.agent_id, windowStart) as { n: number };
  const bad = db
    .prepare("SELECT MAX(ts) AS ts FROM ledger_entries WHERE type = 'pr.bad_outcome' AND agent_id = ?")
    .get(row.agent_id) as { ts: string | null };
  return {
    tier: row.tier,
    tierSince: row.tier_since,
    mergedPrsAtTier: row.merged_prs_at_tier,
    lastSeriousViolationAt: row.last_serious_violation_at,
    lastBadOutcomeAt: bad.ts,
    budgetUsed: used.n,
    budgetLimit: g.config.budgets.limit,
  };
}
