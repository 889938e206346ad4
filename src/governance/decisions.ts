import type { LedgerEntry } from '../core/ledger-entries.js';
import type { OrgConfig } from '../core/org-config.js';
import type { ApprovalReceipt } from '../core/policy/decision.js';
import type { AsyncAppendOptions, AsyncLedger, LedgerView } from '../ledger/async-ledger.js';
import type { Ledger } from '../ledger/ledger.js';
import { agentsAsync } from '../ledger/queries/agents.js';
import {
  approvalReceipts,
  type LatestDecision,
  latestDecision,
  newestDecisionsWaiting,
  waitingSince,
} from '../ledger/queries/decisions.js';
import type { Clock } from '../platform/clock.js';
import type { AgentRegistry } from './agent-registry.js';
import { type DecisionRecord, decisionEntry, deniedUnlessActive } from './decision-record.js';
import { violationEntries } from './record-violations.js';
import type { StateSync } from './state-sync.js';

/**
 * The calls a decision causes, chosen inside its write from the record as it will be appended (an
 * allow turned deny by a revocation) and the ledger as it will extend it: reads through
 * `view.reader` only, since it may run more than once.
 */
export type DecisionOutbox = (
  record: DecisionRecord,
  view: LedgerView,
) => AsyncAppendOptions | Promise<AsyncAppendOptions>;

export interface DecisionsDeps {
  ledger: Ledger;
  store: AsyncLedger;
  config: OrgConfig;
  clock: Clock;
  sync: StateSync;
  registry: AgentRegistry;
}

export interface WaitingPullRequest {
  repository: string;
  number: number;
  installationId: number;
}

/** PR decisions: recording one with its consequences, and what the ledger says about past ones. */
export class Decisions {
  constructor(private readonly deps: DecisionsDeps) {}

  /**
   * Records a PR decision, the violations it found with their consequences, and the calls it
   * causes (the check run), in one ledger transaction; then brings the state store along.
   */
  async record(
    proposed: DecisionRecord,
    trigger: string,
    options: AsyncAppendOptions | DecisionOutbox = {},
  ): Promise<LedgerEntry[]> {
    const { store, config, clock } = this.deps;
    const now = clock.now();
    const entries = await store.appendDecided(async (view) => {
      // Re-checked as the entries will extend the ledger: an agent revoked or suspended while its PR
      // was being evaluated does not get an allow recorded after its revocation.
      const status = proposed.agentId ? await agentsAsync.agentStatus(view.reader, proposed.agentId) : null;
      const record = deniedUnlessActive(proposed, status);
      const { outbox } = typeof options === 'function' ? await options(record, view) : options;
      const entry = decisionEntry(record, trigger);
      if (!record.agentId) return { entries: [entry], outbox };
      const source = `github:${record.repository}#${record.number}@${record.headSha}`;
      const consequences = await violationEntries(
        view.reader,
        config,
        record.agentId,
        record.violations,
        source,
        'github',
        now,
      );
      return { entries: [entry, ...consequences], outbox };
    });
    await this.deps.sync.syncState();
    return entries;
  }

  /** The newest decision on a PR, if any. */
  latest(repository: string, number: number): LatestDecision | null {
    return latestDecision(this.deps.ledger, repository, number);
  }

  /** Whether the newest decision on a PR already says this: same head, outcome and summary. */
  sameAsLatest(
    repository: string,
    number: number,
    d: { headSha: string; outcome: string; summary: string },
  ): boolean {
    const latest = this.latest(repository, number);
    return latest?.headSha === d.headSha && latest.outcome === d.outcome && latest.summary === d.summary;
  }

  /**
   * When the PR began to wait for people at this head commit: the first decision at it that needed
   * an approval (or now, for the decision about to be recorded). Deadlines run from here.
   */
  waitingSince(repository: string, number: number, headSha: string): string | null {
    return waitingSince(this.deps.ledger, repository, number, headSha);
  }

  /** Every approval and rejection recorded for a PR, oldest first. */
  receiptsFor(repository: string, number: number): ApprovalReceipt[] {
    return approvalReceipts(this.deps.ledger, repository, number);
  }

  /**
   * PRs whose newest decision waits for people past the deadline of one of its gates and was made
   * before that deadline: the core must decide them again now (expiry rejects or escalates).
   */
  waitingPastDeadline(now: Date): WaitingPullRequest[] {
    const due: WaitingPullRequest[] = [];
    for (const row of newestDecisionsWaiting(this.deps.ledger)) {
      const p = row.payload;
      const hours = Math.min(...(p.gates ?? []).map((g) => g.expiryHours));
      const since = this.waitingSince(row.repository, row.number, row.headSha);
      if (!since || !Number.isFinite(hours) || p.installationId === undefined) continue;
      const deadline = Date.parse(since) + hours * 3600_000;
      if (now.getTime() >= deadline && Date.parse(row.ts) < deadline)
        due.push({ repository: row.repository, number: row.number, installationId: p.installationId });
    }
    return due;
  }
}
