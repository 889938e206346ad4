import type { LedgerEntry } from '../core/ledger-entries.js';
import type { OrgConfig } from '../core/org-config.js';
import type { Ledger } from '../ledger/ledger.js';
import { budgetUsed, suspendedForExhaustedBudget } from '../ledger/queries/violations.js';
import type { Clock } from '../platform/clock.js';
import { recordViolations, type ViolationReport } from './record-violations.js';
import type { StateSync } from './state-sync.js';

export interface ViolationsDeps {
  ledger: Ledger;
  config: OrgConfig;
  clock: Clock;
  sync: StateSync;
}

/** Violations found outside a PR decision, and the error budgets they are charged to. */
export class Violations {
  constructor(private readonly deps: ViolationsDeps) {}

  /** Violations found outside a decision (CI failures, missed heartbeats), with their consequences. */
  async record(
    agentId: string,
    report: ViolationReport,
    source: string,
    actor: string,
  ): Promise<LedgerEntry[]> {
    const { ledger, config, clock } = this.deps;
    const entries = recordViolations(ledger, config, agentId, [report], source, actor, clock.now());
    await this.deps.sync.syncState();
    return entries;
  }

  /**
   * With `budgets.recovery: window`, resumes agents suspended for an exhausted budget once their
   * usage in the window fell below the limit again. Returns the agents resumed.
   */
  async recoverBudgets(now: Date = this.deps.clock.now()): Promise<string[]> {
    const { ledger, config } = this.deps;
    if (config.budgets.recovery !== 'window') return [];
    const windowStart = new Date(now.getTime() - config.budgets.window_hours * 3600_000).toISOString();
    const resumed = ledger.atomically(() => {
      const ids: string[] = [];
      for (const agentId of suspendedForExhaustedBudget(ledger)) {
        const used = budgetUsed(ledger, agentId, windowStart);
        if (used >= config.budgets.limit) continue;
        ledger.append({
          type: 'agent.status_changed',
          agentId,
          actor: 'budget-window',
          payload: {
            from: 'suspended',
            to: 'active',
            reason: `error budget recovered: ${used} of ${config.budgets.limit} used in the window`,
          },
        });
        ids.push(agentId);
      }
      return ids;
    });
    await this.deps.sync.syncState();
    return resumed;
  }
}
