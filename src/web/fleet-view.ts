import type { Governance } from '../governance/governance.js';
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
  promotions: {
    seq: number;
    agentId: string;
    kind: string;
    step: string;
    from: string | null;
    to: string | null;
    actor: string;
    ts: string;
    reason: string;
  }[];
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

  constructor(
    private readonly governance: Governance,
    private readonly decisions: DecisionViews,
    private readonly lastVerify: () => LastVerify | null = () => null,
  ) {
    this.chain = decisions.chain;
  }

  agents(now: Date, filter: FleetFilter = {}): AgentRow[] {
    const db = this.governance.ledger.db;
    const budgets = this.governance.config.budgets;
    const windowStart = new Date(now.getTime() - budgets.window_hours * 3600_000).toISOString();
    const rows = db
      .prepare(
        `SELECT m.agent_id, m.tier, m.status, m.merged_prs_total, m.violations_total,
                (SELECT COALESCE(SUM(budget_charge), 0) FROM violations v WHERE v.agent_id = m.agent_id AND v.ts >= ?) AS used,
                (SELECT COUNT(*) FROM agent_actions a WHERE a.agent_id = m.agent_id AND a.type = 'pr.bad_outcome') AS reverts,
                (SELECT MAX(ts) FROM agent_actions a WHERE a.agent_id = m.agent_id) AS last
           FROM agent_metrics m ORDER BY m.agent_id`,
      )
      .all(windowStart) as {
      agent_id: string;
      tier: string;
      status: string;
      merged_prs_total: number;
      violations_total: number;
      used: number;
      reverts: number;
      last: string | null;
    }[];
    const q = filter.q?.trim().toLowerCase();
    return rows
      .filter((r) => !filter.status || r.status === filter.status)
      .filter((r) => !filter.tier || r.tier === filter.tier)
      .filter((r) => !q || r.agent_id.includes(q))
      .map((r) => ({
        id: r.agent_id,
        tier: r.tier,
        status: r.status,
        budgetUsed: r.used,
        budgetLimit: budgets.limit,
        mergedPrs: r.merged_prs_total,
        reverts: r.reverts,
        violations: r.violations_total,
        lastActivity: r.last,
      }));
  }

  /** PRs whose newest decision waits for people, oldest first, each with who it waits for. */
  pending(now: Date): PendingApproval[] {
    const rows = this.governance.ledger.db
      .prepare(
        `SELECT d.repository, d.number FROM decisions d
          WHERE d.outcome = 'require_approval'
            AND d.seq = (SELECT MAX(seq) FROM decisions x WHERE x.repository = d.repository AND x.number = d.number)
          ORDER BY d.seq LIMIT 200`,
      )
      .all() as { repository: string; number: number }[];
    const out: PendingApproval[] = [];
    for (const r of rows) {
      const view = this.decisions.read(r.repository, r.number, now, { chain: false });
      if (!view) continue;
      const p = view.latest.payload;
      out.push({
        repository: r.repository,
        number: r.number,
        agentId: view.latest.agentId,
        title: p.title ?? null,
        since: this.governance.waitingSince(r.repository, r.number, p.headSha) ?? view.latest.ts,
        gates: view.gates,
      });
    }
    return out.sort((a, b) => a.since.localeCompare(b.since));
  }

  read(now: Date, filter: FleetFilter): FleetView {
    const g = this.governance;
    const head = g.ledger.head();
    const latest = g.ledger.db
      .prepare(
        'SELECT id, head_seq, created_at FROM checkpoints ORDER BY head_seq DESC, created_at DESC LIMIT 1',
      )
      .get() as { id: string; head_seq: number; created_at: string } | undefined;
    const promotions = (
      g.ledger.db
        .prepare(
          'SELECT seq, agent_id, kind, step, from_tier, to_tier, actor, ts, reason FROM promotions ORDER BY seq DESC LIMIT 20',
        )
        .all() as {
        seq: number;
        agent_id: string;
        kind: string;
        step: string;
        from_tier: string | null;
        to_tier: string | null;
        actor: string;
        ts: string;
        reason: string;
      }[]
    ).map((p) => ({
      seq: p.seq,
      agentId: p.agent_id,
      kind: p.kind,
      step: p.step,
      from: p.from_tier,
      to: p.to_tier,
      actor: p.actor,
      ts: p.ts,
      reason: p.reason,
    }));
    return {
      agents: this.agents(now, filter),
      pending: this.pending(now),
      promotions,
      head,
      checkpoint: latest ? { id: latest.id, headSeq: latest.head_seq, createdAt: latest.created_at } : null,
      chain: this.chain.check(head.seq),
      lastVerify: this.lastVerify(),
    };
  }

  /** One agent's history for its page and chart: budget charges and decisions, oldest first. */
  history(agentId: string): {
    charges: { ts: string; charge: number; type: string }[];
    decisions: { ts: string; outcome: string; repository: string; number: number }[];
  } {
    const db = this.governance.ledger.db;
    return {
      charges: db
        .prepare('SELECT ts, budget_charge AS charge, type FROM violations WHERE agent_id = ? ORDER BY seq')
        .all(agentId) as { ts: string; charge: number; type: string }[],
      decisions: db
        .prepare('SELECT ts, outcome, repository, number FROM decisions WHERE agent_id = ? ORDER BY seq')
        .all(agentId) as { ts: string; outcome: string; repository: string; number: number }[],
    };
  }
}
