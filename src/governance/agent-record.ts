import type { AgentRecordFacts } from '../core/promotion.js';
import type { LedgerReader } from '../ledger/ledger-reader.js';
import type { AgentMetrics } from '../ledger/queries/agents.js';
import { outcomesAsync } from '../ledger/queries/outcomes.js';
import { violationsAsync } from '../ledger/queries/violations.js';
import type { Governance } from './governance.js';

/** The record promotion eligibility is judged on, read from the ledger's projections. */
export async function agentRecordFacts(
  g: Governance,
  agent: AgentMetrics,
  now: Date,
  reader: LedgerReader = g.store.reader,
): Promise<AgentRecordFacts> {
  const windowStart = new Date(now.getTime() - g.config.budgets.window_hours * 3600_000).toISOString();
  return {
    tier: agent.tier,
    tierSince: agent.tierSince,
    mergedPrsAtTier: agent.mergedPrsAtTier,
    lastSeriousViolationAt: agent.lastSeriousViolationAt,
    lastBadOutcomeAt: await outcomesAsync.lastBadOutcomeAt(reader, agent.agentId),
    budgetUsed: await violationsAsync.budgetUsed(reader, agent.agentId, windowStart),
    budgetLimit: g.config.budgets.limit,
  };
}
