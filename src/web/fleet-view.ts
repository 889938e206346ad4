import type { Governance } from '../governance/governance.js';
import { waitingSince } from '../ledger/queries/decisions.js';
import {
  type FleetViewQueries,
  fleetViewQueries,
  type PromotionStep,
} from '../ledger/queries/fleet-views.js';
import type { ChainCheck, ChainChecker } from './chain-check.js';
import type { DecisionViews, GateView } from './decision-view.js';

export interface AgentRow {
  id: string;
  tier: string;
  status: string;
  budgetUsed: number;
  budgetLimit: number;
  mergedPrs: number;
  reverts: number;
  violations: number;
  lastActivity: string | null;
}

export interface PendingApproval {
  repository: string;
  number: number;
  agentId: string | null;
  title: string | null;
  since: string;
  gates: GateView[];
}

export interface FleetView {
  agents: AgentRow[];
  pending: PendingApproval[];
  promotions: PromotionStep[];
  head: { seq: number; hash: string };
  checkpoint: { id: string; headSeq: number; createdAt: string } | null;
  chain: ChainCheck;
  /** The last full verification the service ran (null when it has not said). */
  lastVerify: LastVerify | null;
}

/**
 * A full verification of the ledger the service ran (the chain, its checkpoints and its projections,
 * as `agov ledger verify` does): when, why, and how much it checked. The service refuses to start on
 * a ledger that does not verify, so one that ran at start-up always passed.
 */
export interface LastVerify {
  at: string;
  when: 'start-up';
  ok: boolean;
  entries: number;
  ms: number;
}

export interface FleetFilter {
  status?: string | null;
  tier?: string | null;
  q?: string | null;
}

/** The fleet as the ledger's projections have it: agents, PRs waiting for people, promotions, the chain. */
export class FleetViews {
  private readonly chain: ChainChecker;
  private readonly queries: FleetViewQueries;

  constructor(
    private readonly governance: Governance,
    private readonly decisions: DecisionViews,
    private readonly lastVerify: () => LastVerify | null = () => null,
  ) {
    this.chain = decisions.chain;
    this.queries = fleetViewQueries(governance.ledger);
  }

  agents(now: Date, filter: FleetFilter = {}): AgentRow[] {
    const budgets = this.governance.config.budgets;
    const windowStart = new Date(now.getTime() - budgets.window_hours * 3600_000).toISOString();
    const q = filter.q?.trim().toLowerCase();
    return this.queries
      .agents(windowStart)
      .filter((r) => !filter.status || r.status === filter.status)
      .filter((r) => !filter.tier || r.tier === filter.tier)
      .filter((r) => !q || r.id.includes(q))
      .map((r) => ({
        id: r.id,
        tier: r.tier,
        status: r.status,
        budgetUsed: r.budgetUsed,
        budgetLimit: budgets.limit,
        mergedPrs: r.mergedPrs,
        reverts: r.reverts,
        violations: r.violations,
        lastActivity: r.lastActivity,
      }));
  }

  /** PRs whose newest decision waits for people, oldest first, each with who it waits for. */
  pending(now: Date): PendingApproval[] {
    const out: PendingApproval[] = [];
    for (const r of this.queries.waitingForApproval()) {
      const view = this.decisions.read(r.repository, r.number, now, { chain: false });
      if (!view) continue;
      const p = view.latest.payload;
      out.push({
        repository: r.repository,
        number: r.number,
        agentId: view.latest.agentId,
        title: p.title ?? null,
        since: waitingSince(this.governance.ledger, r.repository, r.number, p.headSha) ?? view.latest.ts,
        gates: view.gates,
      });
    }
    return out.sort((a, b) => a.since.localeCompare(b.since));
  }

  read(now: Date, filter: FleetFilter): FleetView {
    const g = this.governance;
    const head = g.ledger.head();
    return {
      agents: this.agents(now, filter),
      pending: this.pending(now),
      promotions: this.queries.recentPromotions(),
      head,
      checkpoint: this.queries.latestCheckpoint(),
      chain: this.chain.check(head.seq),
      lastVerify: this.lastVerify(),
    };
  }

  /** One agent's history for its page and chart: budget charges and decisions, oldest first. */
  history(agentId: string): {
    charges: { ts: string; charge: number; type: string }[];
    decisions: { ts: string; outcome: string; repository: string; number: number }[];
  } {
    return { charges: this.queries.budgetCharges(agentId), decisions: this.queries.decisionsOf(agentId) };
  }
}
