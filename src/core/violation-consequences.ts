/**
 * What violations do to an agent: critical revokes, high suspends (or demotes), medium and low
 * charge the error budget, and the one charge that exhausts the budget is itself a violation that
 * suspends the agent. Pure: the caller reads the agent's standing and writes the entries.
 */
import type { LedgerEntryInput } from './ledger-entries.js';
import type { AgentStatus } from './lifecycle.js';
import { budgetChargeFor, consequenceFor, type OrgConfig } from './org-config.js';
import { adjacentTier, type TierId } from './tiers.js';
import { severityOf, type ViolationType } from './violations.js';

export interface ViolationReport {
  type: ViolationType;
  details: string;
}

export interface AgentStanding {
  status: AgentStatus;
  tier: TierId | undefined;
  /** Budget points used in the current window. */
  used: number;
}

/** The entries that record `reports` (already filtered of repeats) and their consequences, in order. */
export function violationConsequences(
  config: OrgConfig,
  agentId: string,
  standing: AgentStanding,
  reports: readonly ViolationReport[],
  source: string,
  actor: string,
): LedgerEntryInput[] {
  let { status, tier, used } = standing;
  const entries: LedgerEntryInput[] = [];
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
  for (const report of reports) record(report.type, report.details);
  return entries;
}
