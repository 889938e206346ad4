import type { LedgerSource } from '../ledger.js';
import { perEngine } from '../ledger-reader.js';
import { allQuery, asyncReads, getQuery } from './query.js';

/** A recorded violation as the bug watcher reads it. */
export interface ViolationSeen {
  agentId: string;
  type: string;
  source: string;
  ts: string;
}

interface ViolationRow {
  agent_id: string;
  type: string;
  source: string;
  ts: string;
}

const queries = {
  budgetUsed: getQuery<[agentId: string, windowStart: string], { used: number }, number>({
    sql: 'SELECT COALESCE(SUM(budget_charge), 0) AS used FROM violations WHERE agent_id = ? AND ts >= ?',
    map: (row) => row?.used ?? 0,
  }),
  violationRecorded: getQuery<[agentId: string, type: string, source: string], { found: number }, boolean>({
    sql: 'SELECT 1 AS found FROM violations WHERE agent_id = ? AND type = ? AND source = ? LIMIT 1',
    map: (row) => row !== undefined,
  }),
  revokedActivitySinceStatusChange: getQuery<[agentId: string], { found: number }, boolean>({
    sql: `SELECT 1 AS found FROM violations WHERE agent_id = ? AND type = 'revoked_agent_activity' AND seq > COALESCE(
         (SELECT MAX(seq) FROM agent_actions WHERE agent_id = ? AND type = 'agent.status_changed'), 0) LIMIT 1`,
    bind: (agentId) => [agentId, agentId],
    map: (row) => row !== undefined,
  }),
  suspendedForExhaustedBudget: allQuery<[], { agent_id: string }, string[]>({
    sql: perEngine(
      (d) => `SELECT m.agent_id FROM agent_metrics m WHERE m.status = 'suspended' AND (
         SELECT type FROM violations v WHERE v.agent_id = m.agent_id ORDER BY seq DESC LIMIT 1) = 'error_budget_exhausted'
       ORDER BY ${d.byText('m.agent_id')}`,
    ),
    map: (rows) => rows.map((r) => r.agent_id),
  }),
  seriousViolationCount: getQuery<[agentId: string, since: string], { n: number }, number>({
    sql: "SELECT COUNT(*) AS n FROM violations WHERE agent_id = ? AND ts >= ? AND severity IN ('high', 'critical')",
    map: (row) => row?.n ?? 0,
  }),
  violationsSince: allQuery<[since: string], ViolationRow, ViolationSeen[]>({
    sql: 'SELECT agent_id, type, source, ts FROM violations WHERE ts >= ? ORDER BY seq',
    map: (rows) => rows.map((r) => ({ agentId: r.agent_id, type: r.type, source: r.source, ts: r.ts })),
  }),
};

/** The queries of this module on either engine, through a `LedgerReader`. */
export const violationsAsync = asyncReads(queries);

/**
 * The error budget the agent used in the window that began at `windowStart` (ISO time): the one
 * definition that charging, recovery and promotion eligibility all read.
 */
export function budgetUsed(store: LedgerSource, agentId: string, windowStart: string): number {
  return queries.budgetUsed.sync(store, agentId, windowStart);
}

/** Whether a violation of this type was recorded against the agent for this source already. */
export function violationRecorded(
  store: LedgerSource,
  agentId: string,
  type: string,
  source: string,
): boolean {
  return queries.violationRecorded.sync(store, agentId, type, source);
}

/** Whether a `revoked_agent_activity` was recorded since the agent's status last changed. */
export function revokedActivitySinceStatusChange(store: LedgerSource, agentId: string): boolean {
  return queries.revokedActivitySinceStatusChange.sync(store, agentId);
}

/** Agents suspended whose newest violation is `error_budget_exhausted`: the budget suspended them. */
export function suspendedForExhaustedBudget(store: LedgerSource): string[] {
  return queries.suspendedForExhaustedBudget.sync(store);
}

/** High and critical violations of the agent since `since`. */
export function seriousViolationCount(store: LedgerSource, agentId: string, since: string): number {
  return queries.seriousViolationCount.sync(store, agentId, since);
}

/** Every violation recorded since `since`. */
export function violationsSince(store: LedgerSource, since: string): ViolationSeen[] {
  return queries.violationsSince.sync(store, since);
}
