import type { LedgerEntry } from '../../core/ledger-entries.js';
import { type EntryRow, rowToEntry } from '../ledger.js';
import { perEngine } from '../ledger-reader.js';
import type { LedgerDb } from '../open-ledger-db.js';
import { allQuery, asyncReads, getQuery, perDatabase } from './query.js';

/** One entry of an agent, without its payload. */
export interface AgentAction {
  seq: number;
  type: string;
  ts: string;
  actor: string;
}

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

const queries = {
  agents: allQuery<[windowStart: string], AgentSummaryRow, AgentSummary[]>({
    sql: perEngine(
      (d) => `SELECT m.agent_id, m.tier, m.status, m.merged_prs_total, m.violations_total,
              (SELECT COALESCE(SUM(budget_charge), 0) FROM violations v WHERE v.agent_id = m.agent_id AND v.ts >= ?) AS used,
              (SELECT COUNT(*) FROM agent_actions a WHERE a.agent_id = m.agent_id AND a.type = 'pr.bad_outcome') AS reverts,
              (SELECT MAX(ts) FROM agent_actions a WHERE a.agent_id = m.agent_id) AS last
         FROM agent_metrics m ORDER BY ${d.byText('m.agent_id')}`,
    ),
    map: (rows) =>
      rows.map((r) => ({
        id: r.agent_id,
        tier: r.tier,
        status: r.status,
        mergedPrs: r.merged_prs_total,
        violations: r.violations_total,
        budgetUsed: r.used,
        reverts: r.reverts,
        lastActivity: r.last,
      })),
  }),
  waitingForApproval: allQuery<[], PullRequestRef, PullRequestRef[]>({
    sql: `SELECT d.repository, d.number FROM decisions d
        WHERE d.outcome = 'require_approval' AND ${NEWEST_OF_ITS_PR}
        ORDER BY d.seq LIMIT 200`,
    map: (rows) => rows.map(pullRequestRef),
  }),
  openPullRequests: allQuery<[agentId: string], PullRequestRef, PullRequestRef[]>({
    sql: `SELECT d.repository, d.number FROM decisions d
        WHERE d.agent_id = ? AND ${NEWEST_OF_ITS_PR} AND d.outcome IN ('pending', 'require_approval', 'allow')
        ORDER BY d.seq`,
    map: (rows) => rows.map(pullRequestRef),
  }),
  // An agent's newest entries as its action projection has them (no payloads), newest first.
  recentActions: allQuery<[agentId: string, limit: number], AgentAction, AgentAction[]>({
    sql: 'SELECT seq, type, ts, actor FROM agent_actions WHERE agent_id = ? ORDER BY seq DESC LIMIT ?',
    map: (rows) => rows.map((r) => ({ seq: Number(r.seq), type: r.type, ts: r.ts, actor: r.actor })),
  }),
  latestCheckpoint: getQuery<[], { id: string; head_seq: number; created_at: string }, CheckpointRef | null>({
    sql: perEngine(
      (d) =>
        `SELECT id, head_seq, created_at FROM checkpoints ORDER BY head_seq DESC, ${d.byText('created_at')} DESC LIMIT 1`,
    ),
    map: (row) => (row ? { id: row.id, headSeq: row.head_seq, createdAt: row.created_at } : null),
  }),
  recentPromotions: allQuery<[], PromotionRow, PromotionStep[]>({
    sql: 'SELECT seq, agent_id, kind, step, from_tier, to_tier, actor, ts, reason FROM promotions ORDER BY seq DESC LIMIT 20',
    map: (rows) =>
      rows.map((p) => ({
        seq: p.seq,
        agentId: p.agent_id,
        kind: p.kind,
        step: p.step,
        from: p.from_tier,
        to: p.to_tier,
        actor: p.actor,
        ts: p.ts,
        reason: p.reason,
      })),
  }),
  budgetCharges: allQuery<[agentId: string], BudgetCharge, BudgetCharge[]>({
    sql: 'SELECT ts, budget_charge AS charge, type FROM violations WHERE agent_id = ? ORDER BY seq',
    map: (rows) => rows.map((r) => ({ ts: r.ts, charge: r.charge, type: r.type })),
  }),
  decisionsOf: allQuery<[agentId: string], AgentDecision, AgentDecision[]>({
    sql: 'SELECT ts, outcome, repository, number FROM decisions WHERE agent_id = ? ORDER BY seq',
    map: (rows) =>
      rows.map((r) => ({ ts: r.ts, outcome: r.outcome, repository: r.repository, number: r.number })),
  }),
  // The agent page's timeline: the agent's newest entries, newest first.
  latestForAgent: allQuery<[agentId: string, limit: number], EntryRow, LedgerEntry[]>({
    sql: `SELECT e.seq, e.ts, e.type, e.agent_id, e.actor, e.payload, e.prev_hash, e.hash
        FROM agent_actions a JOIN ledger_entries e ON e.seq = a.seq
        WHERE a.agent_id = ? ORDER BY a.seq DESC LIMIT ?`,
    map: (rows) => rows.map(rowToEntry),
  }),
};

type BudgetCharge = { ts: string; charge: number; type: string };
type AgentDecision = { ts: string; outcome: string; repository: string; number: number };

/** The queries of this module on either engine, through a `LedgerReader`. */
export const fleetViewsAsync = asyncReads(queries);

/** The fleet's reads: agents, PRs waiting for people or still open, promotions, checkpoints, history. */
export class FleetViewQueries {
  constructor(private readonly db: LedgerDb) {}

  /** Every agent, by id, with the budget its violations charged since `windowStart` (an ISO time). */
  agents(windowStart: string): AgentSummary[] {
    return queries.agents.sync(this.db, windowStart);
  }

  /** PRs whose newest decision waits for approval, the 200 oldest. */
  waitingForApproval(): PullRequestRef[] {
    return queries.waitingForApproval.sync(this.db);
  }

  /** An agent's PRs whose newest decision is not final: pending, waiting for approval, or allowed. */
  openPullRequests(agentId: string): PullRequestRef[] {
    return queries.openPullRequests.sync(this.db, agentId);
  }

  /** The checkpoint covering the most of the chain; null before the first. */
  latestCheckpoint(): CheckpointRef | null {
    return queries.latestCheckpoint.sync(this.db);
  }

  /** The 20 newest promotion steps, newest first. */
  recentPromotions(): PromotionStep[] {
    return queries.recentPromotions.sync(this.db);
  }

  /** An agent's budget charges, oldest first. */
  budgetCharges(agentId: string): BudgetCharge[] {
    return queries.budgetCharges.sync(this.db, agentId);
  }

  /** Every decision on an agent's PRs, oldest first. */
  decisionsOf(agentId: string): AgentDecision[] {
    return queries.decisionsOf.sync(this.db, agentId);
  }
}

/** The queries of a ledger, one per database. */
export const fleetViewQueries = perDatabase((db) => new FleetViewQueries(db));

function pullRequestRef(r: PullRequestRef): PullRequestRef {
  return { repository: r.repository, number: r.number };
}
