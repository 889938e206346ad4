import type { AgentRecordFacts } from '../core/promotion.js';
import type { AgentMetrics } from '../ledger/queries/agents.js';
import { lastBadOutcomeAt } from '../ledger/queries/outcomes.js';
import { budgetUsed } from '../ledger/queries/violations.js';
import type { Governance } from './governance.js';

/** The record promotion eligibility is judged on, read from the ledger's projections. */
export function agentRecordFacts(g: Governance, agent: AgentMetrics, now: Date): AgentRecordFacts {
  const db = g.ledger;
  const windowStart = new Date(now.getTime() - g.config.budgets.window_hours * 3600_000).toISOString();
  return {
    tier: agent.tier,
    tierSince: agent.tierSince,
    mergedPrsAtTier: agent.mergedPrsAtTier,
    lastSeriousViolationAt: agent.lastSeriousViolationAt,
    lastBadOutcomeAt: lastBadOutcomeAt(db, agent.agentId),
    budgetUsed: budgetUsed(db, agent.agentId, windowStart),
    budgetLimit: g.config.budgets.limit,
  };
}
