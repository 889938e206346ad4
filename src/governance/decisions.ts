import type { LedgerEntry } from '../core/ledger-entries.js';
import type { OrgConfig } from '../core/org-config.js';
import type { ApprovalReceipt } from '../core/policy/decision.js';
import type { AsyncAppendOptions, AsyncLedger, LedgerView } from '../ledger/async-ledger.js';
import { decisionsAsync, type LatestDecision } from '../ledger/queries/decisions.js';
import type { Clock } from '../platform/clock.js';
import type { AgentRegistry } from './agent-registry.js';
import { type DecisionRecord, decisionEntry, deniedUnlessActive } from './decision-record.js';
import { violationEntries } from './record-violations.js';
import type { StateSync } from './state-sync.js';

export interface DecisionsDeps {
  store: AsyncLedger;
  config: OrgConfig;
  clock: Clock;
  sync: StateSync;
  registry: AgentRegistry;
}

/**
 * The calls a decision causes, chosen from what it decided and from the ledger as it will extend
 * it (the check run reads the other PRs' decisions at the same commit through `view.reader`).
 */
export type DecisionOutbox = (
  record: DecisionRecord,
  view: LedgerView,
) => AsyncAppendOptions | Promise<AsyncAppendOptions>;

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
   * causes (the check run), in one ledger transaction; then brings the state store along. Nothing
   * when `unchanged` says the PR's newest decision, read in that transaction, already says it.
   */
  async record(
    proposed: DecisionRecord,
    trigger: string,
    options: AsyncAppendOptions | DecisionOutbox = {},
    unchanged?: (latest: LatestDecision | null) => boolean,
  ): Promise<LedgerEntry[]> {
    const { store, config, clock, registry } = this.deps;
    const now = clock.now();
    const entries = await store.appendDecided(async (view) => {
      const { reader } = view;
      // Re-checked as the entries will extend the ledger: another replica (a sweep beside a
      // delivery) may have recorded the same verdict meanwhile; it is on the check already.
      if (unchanged?.(await decisionsAsync.latestDecision(reader, proposed.repository, proposed.number)))
        return [];
      // Re-checked as the entries will extend the ledger: an agent revoked or suspended while its PR
      // was being evaluated does not get an allow recorded after its revocation.
      const status = proposed.agentId ? await registry.statusInLedger(proposed.agentId, reader) : null;
      const record = deniedUnlessActive(proposed, status);
      const { outbox } = typeof options === 'function' ? await options(record, view) : options;
      const entry = decisionEntry(record, trigger);
      if (!record.agentId) return { entries: [entry], outbox };
      const source = `github:${record.repository}#${record.number}@${record.headSha}`;
      const consequences = await violationEntries(
        reader,
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
  latest(repository: string, number: number): Promise<LatestDecision | null> {
    return decisionsAsync.latestDecision(this.deps.store.reader, repository, number);
  }

  /** Whether the newest decision on a PR already says this: same head, outcome and summary. */
  async sameAsLatest(
    repository: string,
    number: number,
    d: { headSha: string; outcome: string; summary: string },
  ): Promise<boolean> {
    const latest = await this.latest(repository, number);
    return latest?.headSha === d.headSha && latest.outcome === d.outcome && latest.summary === d.summary;
  }

  /**
   * When the PR began to wait for people at this head commit: the first decision at it that needed
   * an approval (or now, for the decision about to be recorded). Deadlines run from here.
   */
  waitingSince(repository: string, number: number, headSha: string): Promise<string | null> {
    return decisionsAsync.waitingSince(this.deps.store.reader, repository, number, headSha);
  }

  /** Every approval and rejection recorded for a PR, oldest first. */
  receiptsFor(repository: string, number: number): Promise<ApprovalReceipt[]> {
    return decisionsAsync.approvalReceipts(this.deps.store.reader, repository, number);
  }

  /**
   * PRs whose newest decision waits for people past the deadline of one of its gates and was made
   * before that deadline: the core must decide them again now (expiry rejects or escalates).
   */
  async waitingPastDeadline(now: Date): Promise<WaitingPullRequest[]> {
    const due: WaitingPullRequest[] = [];
    for (const row of await decisionsAsync.newestDecisionsWaiting(this.deps.store.reader)) {
      const p = row.payload;
      const hours = Math.min(...(p.gates ?? []).map((g) => g.expiryHours));
      const since = await this.waitingSince(row.repository, row.number, row.headSha);
      if (!since || !Number.isFinite(hours) || p.installationId === undefined) continue;
      const deadline = Date.parse(since) + hours * 3600_000;
      if (now.getTime() >= deadline && Date.parse(row.ts) < deadline)
        due.push({ repository: row.repository, number: row.number, installationId: p.installationId });
    }
    return due;
  }
}
