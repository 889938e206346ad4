import { dbOf, type LedgerSource } from '../ledger.js';
import type { LedgerDb } from '../open-ledger-db.js';

/** A recorded violation as the bug watcher reads it. */
export interface ViolationSeen {
  agentId: string;
  type: string;
  source: string;
  ts: string;
}

function prepare(db: LedgerDb) {
  return {
    budgetUsed: db.prepare<[string, string], { used: number }>(
      'SELECT COALESCE(SUM(budget_charge), 0) AS used FROM violations WHERE agent_id = ? AND ts >= ?',
    ),
    recorded: db.prepare<[string, string, string], { found: number }>(
      'SELECT 1 AS found FROM violations WHERE agent_id = ? AND type = ? AND source = ?',
    ),
    activitySinceStatusChange: db.prepare<[string, string], { found: number }>(
      `SELECT 1 AS found FROM violations WHERE agent_id = ? AND type = 'revoked_agent_activity' AND seq > COALESCE(
         (SELECT MAX(seq) FROM agent_actions WHERE agent_id = ? AND type = 'agent.status_changed'), 0) LIMIT 1`,
    ),
    suspendedForBudget: db.prepare<[], { agent_id: string }>(
      `SELECT m.agent_id FROM agent_metrics m WHERE m.status = 'suspended' AND (
         SELECT type FROM violations v WHERE v.agent_id = m.agent_id ORDER BY seq DESC LIMIT 1) = 'error_budget_exhausted'`,
    ),
    seriousSince: db.prepare<[string, string], { n: number }>(
      "SELECT COUNT(*) AS n FROM violations WHERE agent_id = ? AND ts >= ? AND severity IN ('high', 'critical')",
    ),
    since: db.prepare<[string], ViolationRow>(
      'SELECT agent_id, type, source, ts FROM violations WHERE ts >= ?',
    ),
  };
}

interface ViolationRow {
  agent_id: string;
  type: string;
  source: string;
  ts: string;
}

const cache = new WeakMap<LedgerDb, ReturnType<typeof prepare>>();
const statements = (db: LedgerDb) => cache.get(db) ?? cache.set(db, prepare(db)).get(db)!;

/**
 * The error budget the agent used in the window that began at `windowStart` (ISO time): the one
 * definition that charging, recovery and promotion eligibility all read.
 */
export function budgetUsed(store: LedgerSource, agentId: string, windowStart: string): number {
  const db = dbOf(store);
  return statements(db).budgetUsed.get(agentId, windowStart)?.used ?? 0;
}

/** Whether a violation of this type was recorded against the agent for this source already. */
export function violationRecorded(
  store: LedgerSource,
  agentId: string,
  type: string,
  source: string,
): boolean {
  const db = dbOf(store);
  return statements(db).recorded.get(agentId, type, source) !== undefined;
}

/** Whether a `revoked_agent_activity` was recorded since the agent's status last changed. */
export function revokedActivitySinceStatusChange(store: LedgerSource, agentId: string): boolean {
  const db = dbOf(store);
  return statements(db).activitySinceStatusChange.get(agentId, agentId) !== undefined;
}

/** Agents suspended whose newest violation is `error_budget_exhausted`: the budget suspended them. */
export function suspendedForExhaustedBudget(store: LedgerSource): string[] {
  const db = dbOf(store);
  return statements(db)
    .suspendedForBudget.all()
    .map((r) => r.agent_id);
}

/** High and critical violations of the agent since `since`. */
export function seriousViolationCount(store: LedgerSource, agentId: string, since: string): number {
  const db = dbOf(store);
  return statements(db).seriousSince.get(agentId, since)?.n ?? 0;
}

/** Every violation recorded since `since`. */
export function violationsSince(store: LedgerSource, since: string): ViolationSeen[] {
  const db = dbOf(store);
  return statements(db)
    .since.all(since)
    .map((r) => ({ agentId: r.agent_id, type: r.type, source: r.source, ts: r.ts }));
}
