import type { LedgerEntryInput } from '../core/ledger-entries.js';
import type { OrgConfig } from '../core/org-config.js';
import { type ViolationReport, violationConsequences } from '../core/violation-consequences.js';
import type { LedgerReader } from '../ledger/ledger-reader.js';
import { agentsAsync } from '../ledger/queries/agents.js';
import { violationsAsync } from '../ledger/queries/violations.js';

export type { ViolationReport };

/**
 * The entries that record violations against an agent with their consequences (the core's rule),
 * for a decision of `store.appendDecided`: the budget is read through the decision's view, as the
 * ledger will stand when they are appended, so two processes charging at once cannot both miss
 * (or both take) the limit. A violation already recorded for the same `source` is not recorded
 * again (redeliveries, re-runs). Only reads: safe to decide again.
 */
export async function violationEntries(
  reader: LedgerReader,
  config: OrgConfig,
  agentId: string,
  reports: readonly ViolationReport[],
  source: string,
  actor: string,
  now: Date,
): Promise<LedgerEntryInput[]> {
  const agent = await agentsAsync.agentMetrics(reader, agentId);
  const fresh: ViolationReport[] = [];
  if (agent) {
    for (const report of reports) {
      if (await violationsAsync.violationRecorded(reader, agentId, report.type, source)) continue;
      // One finding per revocation (or suspension): a sweep over 1,024 open PRs of a revoked
      // agent recorded 1,024 critical violations and 1,024 identical alerts. Each PR's deny
      // is still recorded, in its decision.
      if (
        report.type === 'revoked_agent_activity' &&
        (await violationsAsync.revokedActivitySinceStatusChange(reader, agentId))
      )
        continue;
      fresh.push(report);
    }
  }
  const windowStart = new Date(now.getTime() - config.budgets.window_hours * 3600_000).toISOString();
  const standing = {
    status: agent?.status ?? ('active' as const),
    tier: agent?.tier,
    used: fresh.length ? await violationsAsync.budgetUsed(reader, agentId, windowStart) : 0,
  };
  return violationConsequences(config, agentId, standing, fresh, source, actor);
}
