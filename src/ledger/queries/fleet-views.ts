import type { Statement } from 'better-sqlite3';
import type { Ledger } from '../ledger.js';
import { dbOf } from '../ledger.js';
import type { LedgerDb } from '../open-ledger-db.js';

/** An agent as the projections have it, with its budget charged since a moment and its activity. */
export interface AgentSummary {
  id: string;
  tier: string;
  status: string;
  mergedPrs: number;
  violations: number;
  /** Budget charged by violations since the window start asked for. */
  budgetUsed: number;
  reverts: number;
  lastActivity: string | null;
}

export interface PullRequestRef {
  repository: string;
  number: number;
}

export interface PromotionStep {
  seq: number;
  agentId: string;
  kind: string;
  step: string;
  from: string | null;
  to: string | null;
  actor: string;
  ts: string;
  reason: string;
}

export interface CheckpointRef {
  id: string;
  headSeq: number;
  createdAt: string;
}

interface AgentSummaryRow {
  agent_id: string;
  tier: string;
  status: string;
  merged_prs_total: number;
  violations_total: number;
  used: number;
  reverts: number;
  last: string | null;
}

interface PromotionRow {
  seq: number;
  agent_id: string;
  kind: string;
  step: string;
  from_tier: string | null;
  to_tier: string | null;
  actor: string;
  ts: string;
  reason: string;
}

/** The newest decision of each PR, and only that one, matched as `d`. */
const NEWEST_OF_ITS_PR =
  'd.seq = (SELECT MAX(seq) FROM decisions x WHERE x.repository = d.repository AND x.number = d.number)';

/** The fleet's reads: agents, PRs waiting for people or still open, promotions, checkpoints, history. */
export class FleetViewQueries {
  private readonly selectAgents: Statement<[string], AgentSummaryRow>;
  private readonly selectWaiting: Statement<[], PullRequestRef>;
  private readonly selectOpenOfAgent: Statement<[string], PullRequestRef>;
  private readonly selectCheckpoint: Statement<[], { id: string; head_seq: number; created_at: string }>;
  private readonly selectPromotions: Statement<[], PromotionRow>;
  private readonly selectCharges: Statement<[string], { ts: string; charge: number; type: string }>;
  private readonly selectDecisions: Statement<
    [string],
    { ts: string; outcome: string; repository: string; number: number }
  >;

  constructor(db: LedgerDb) {
    this.selectAgents = db.prepare(
      `SELECT m.agent_id, m.tier, m.status, m.merged_prs_total, m.violations_total,
              (SELECT COALESCE(SUM(budget_charge), 0) FROM violations v WHERE v.agent_id = m.agent_id AND v.ts >= ?) AS used,
              (SELECT COUNT(*) FROM agent_actions a WHERE a.agent_id = m.agent_id AND a.type = 'pr.bad_outcome') AS reverts,
              (SELECT MAX(ts) FROM agent_actions a WHERE a.agent_id = m.agent_id) AS last
         FROM agent_metrics m ORDER BY m.agent_id`,
    );
    this.selectWaiting = db.prepare(
      `SELECT d.repository, d.number FROM decisions d
        WHERE d.outcome = 'require_approval' AND ${NEWEST_OF_ITS_PR}
        ORDER BY d.seq LIMIT 200`,
    );
    this.selectOpenOfAgent = db.prepare(
      `SELECT d.repository, d.number FROM decisions d
        WHERE d.agent_id = ? AND ${NEWEST_OF_ITS_PR} AND d.outcome IN ('pending', 'require_approval', 'allow')
        ORDER BY d.seq`,
    );
    this.selectCheckpoint = db.prepare(
      'SELECT id, head_seq, created_at FROM checkpoints ORDER BY head_seq DESC, created_at DESC LIMIT 1',
    );
    this.selectPromotions = db.prepare(
      'SELECT seq, agent_id, kind, step, from_tier, to_tier, actor, ts, reason FROM promotions ORDER BY seq DESC LIMIT 20',
    );
    this.selectCharges = db.prepare(
      'SELECT ts, budget_charge AS charge, type FROM violations WHERE agent_id = ? ORDER BY seq',
    );
    this.selectDecisions = db.prepare(
      'SELECT ts, outcome, repository, number FROM decisions WHERE agent_id = ? ORDER BY seq',
    );
  }

  /** Every agent, by id, with the budget its violations charged since `windowStart` (an ISO time). */
  agents(windowStart: string): AgentSummary[] {
    return this.selectAgents.all(windowStart).map((r) => ({
      id: r.agent_id,
      tier: r.tier,
      status: r.status,
      mergedPrs: r.merged_prs_total,
      violations: r.violations_total,
      budgetUsed: r.used,
      reverts: r.reverts,
      lastActivity: r.last,
    }));
  }

  /** PRs whose newest decision waits for approval, the 200 oldest. */
  waitingForApproval(): PullRequestRef[] {
    return this.selectWaiting.all().map(pullRequestRef);
  }

  /** An agent's PRs whose newest decision is not final: pending, waiting for approval, or allowed. */
  openPullRequests(agentId: string): PullRequestRef[] {
    return this.selectOpenOfAgent.all(agentId).map(pullRequestRef);
  }

  /** The checkpoint covering the most of the chain; null before the first. */
  latestCheckpoint(): CheckpointRef | null {
    const row = this.selectCheckpoint.get();
    return row ? { id: row.id, headSeq: row.head_seq, createdAt: row.created_at } : null;
  }

  /** The 20 newest promotion steps, newest first. */
  recentPromotions(): PromotionStep[] {
    return this.selectPromotions.all().map((p) => ({
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
  }

  /** An agent's budget charges, oldest first. */
  budgetCharges(agentId: string): { ts: string; charge: number; type: string }[] {
    return this.selectCharges.all(agentId).map((r) => ({ ts: r.ts, charge: r.charge, type: r.type }));
  }

  /** Every decision on an agent's PRs, oldest first. */
  decisionsOf(agentId: string): { ts: string; outcome: string; repository: string; number: number }[] {
    return this.selectDecisions
      .all(agentId)
      .map((r) => ({ ts: r.ts, outcome: r.outcome, repository: r.repository, number: r.number }));
  }
}

const cache = new WeakMap<LedgerDb, FleetViewQueries>();

/** The fleet's queries of a ledger, their statements prepared once per database. */
export function fleetViewQueries(ledger: Ledger): FleetViewQueries {
  let queries = cache.get(dbOf(ledger));
  if (!queries) {
    queries = new FleetViewQueries(dbOf(ledger));
    cache.set(dbOf(ledger), queries);
  }
  return queries;
}

function pullRequestRef(r: PullRequestRef): PullRequestRef {
  return { repository: r.repository, number: r.number };
}
