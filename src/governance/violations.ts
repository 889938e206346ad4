import type { LedgerEntry, LedgerEntryInput } from '../core/ledger-entries.js';
import type { OrgConfig } from '../core/org-config.js';
import type { AsyncLedger } from '../ledger/async-ledger.js';
import { violationsAsync } from '../ledger/queries/violations.js';
import type { Clock } from '../platform/clock.js';
import { type ViolationReport, violationEntries } from './record-violations.js';
import type { StateSync } from './state-sync.js';

export interface ViolationsDeps {
  store: AsyncLedger;
  config: OrgConfig;
  clock: Clock;
  sync: StateSync;
}

/** Violations found outside a PR decision, and the error budgets they are charged to. */
export class Violations {
  constructor(private readonly deps: ViolationsDeps) {}

  /**
   * Violations found outside a decision (CI failures, missed heartbeats), with their consequences,
   * in one ledger transaction that re-checks the budget as the entries will extend the ledger.
   */
  async record(
    agentId: string,
    report: ViolationReport,
    source: string,
    actor: string,
  ): Promise<LedgerEntry[]> {
    const { store, config, clock } = this.deps;
    const now = clock.now();
    const entries = await store.appendDecided((view) =>
      violationEntries(view.reader, config, agentId, [report], source, actor, now),
    );
    await this.deps.sync.syncState();
    return entries;
  }

  /**
   * With `budgets.recovery: window`, resumes agents suspended for an exhausted budget once their
   * usage in the window fell below the limit again. Returns the agents resumed.
   */
  async recoverBudgets(now: Date = this.deps.clock.now()): Promise<string[]> {
    const { store, config } = this.deps;
    if (config.budgets.recovery !== 'window') return [];
    const windowStart = new Date(now.getTime() - config.budgets.window_hours * 3600_000).toISOString();
    let resumed: string[] = [];
    await store.appendDecided(async ({ reader }) => {
      const ids: string[] = [];
      const entries: LedgerEntryInput[] = [];
      for (const agentId of await violationsAsync.suspendedForExhaustedBudget(reader)) {
        const used = await violationsAsync.budgetUsed(reader, agentId, windowStart);
        if (used >= config.budgets.limit) continue;
        entries.push({
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
      resumed = ids;
      return entries;
    });
    await this.deps.sync.syncState();
    return resumed;
  }
}
