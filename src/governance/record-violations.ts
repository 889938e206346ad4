import type { LedgerEntry, LedgerEntryInput } from '../core/ledger-entries.js';
import type { AgentStatus } from '../core/lifecycle.js';
import { budgetChargeFor, consequenceFor, type OrgConfig } from '../core/org-config.js';
import { adjacentTier } from '../core/tiers.js';
import { severityOf, type ViolationType } from '../core/violations.js';
import type { AppendOptions, Ledger } from '../ledger/ledger.js';
import { agentMetrics } from '../ledger/queries/agents.js';
import {
  budgetUsed,
  revokedActivitySinceStatusChange,
  violationRecorded,
} from '../ledger/queries/violations.js';

export interface ViolationReport {
  type: ViolationType;
  details: string;
}

/**
 * Records violations against an agent with their consequences, in one ledger transaction:
 * critical revokes, high suspends (or demotes), medium and low charge the error budget, and the one
 * charge that exhausts the budget suspends the agent. The budget is read from the ledger inside the
 * write transaction, so two processes charging at once cannot both miss (or both take) the limit.
 * A violation already recorded for the same `source` is not recorded again (redeliveries, re-runs).
 */
export function recordViolations(
  ledger: Ledger,
  config: OrgConfig,
  agentId: string,
  reports: readonly ViolationReport[],
  source: string,
  actor: string,
  now: Date,
  extra: { entries?: LedgerEntryInput[]; options?: AppendOptions } = {},
): LedgerEntry[] {
  const db = ledger.db;
  return ledger.atomically(() => {
    const agent = agentMetrics(db, agentId);
    const windowStart = new Date(now.getTime() - config.budgets.window_hours * 3600_000).toISOString();
    let used = budgetUsed(db, agentId, windowStart);
    let status = agent?.status ?? 'active';
    let tier = agent?.tier;
    const entries: LedgerEntryInput[] = [...(extra.entries ?? [])];
    const changeStatus = (to: AgentStatus, reason: string) => {
      if (status === to || status === 'revoked') return;
      entries.push({ type: 'agent.status_changed', agentId, actor, payload: { from: status, to, reason } });
      status = to;
    };
    const record = (type: ViolationType, details: string) => {
      const severity = severityOf(type);
      const consequence = consequenceFor(config, severity);
      const charge = consequence === 'charge_budget' ? budgetChargeFor(config, severity) : 0;
      entries.push({
        type: 'violation.recorded',
        agentId,
        actor,
        payload: { violation: type, severity, consequence, budgetCharge: charge, details, source },
      });
      if (consequence === 'revoke') changeStatus('revoked', `${type}: ${details}`);
      else if (consequence === 'suspend') changeStatus('suspended', `${type}: ${details}`);
      else if (consequence === 'demote' && tier) {
        const lower = adjacentTier(tier, -1);
        if (lower) {
          entries.push({
            type: 'agent.tier_changed',
            agentId,
            actor,
            payload: { from: tier, to: lower, reason: `${type}: ${details}`, kind: 'demotion' },
          });
          tier = lower;
        }
      }
      const before = used;
      used += charge;
      if (charge > 0 && before < config.budgets.limit && used >= config.budgets.limit) {
        record(
          'error_budget_exhausted',
          `${used} of ${config.budgets.limit} budget points used in ${config.budgets.window_hours} h`,
        );
      }
    };
    for (const report of reports) {
      if (!agent || violationRecorded(db, agentId, report.type, source)) continue;
      // One finding per revocation (or suspension): a sweep over 1,024 open PRs of a revoked agent
      // recorded 1,024 critical violations and 1,024 identical alerts. Each PR's deny is still
      // recorded, in its decision.
      if (report.type === 'revoked_agent_activity' && revokedActivitySinceStatusChange(db, agentId)) continue;
      record(report.type, report.details);
    }
    if (entries.length === 0) return [];
    return ledger.appendAll(entries, extra.options);
  });
}
