import type { Statement } from 'better-sqlite3';
import type { LedgerDb } from './open-ledger-db.js';

/** The prepared writes of the projection tables, one per kind of row a projector writes. */
export interface ProjectionStatements {
  action: Statement;
  metricsInsert: Statement;
  status: Statement;
  tier: Statement;
  violationCount: Statement;
  violation: Statement;
  promotion: Statement;
  decision: Statement;
  token: Statement;
  approval: Statement;
  merged: Statement;
}

/** Prepares the writes against the tables under `tables` (`main.` for the ledger's own). */
export function prepareProjectionStatements(db: LedgerDb, tables: string): ProjectionStatements {
  return {
    decision: db.prepare(
      `INSERT INTO ${tables}decisions (seq, repository, number, head_sha, agent_id, outcome, ts) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ),
    approval: db.prepare(
      `INSERT INTO ${tables}approvals (seq, repository, number, approver, verdict, gate, head_sha, diff_hash, policy_version, source, ts)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    merged: db.prepare(
      `UPDATE ${tables}agent_metrics SET merged_prs_at_tier = merged_prs_at_tier + 1, merged_prs_total = merged_prs_total + 1 WHERE agent_id = ?`,
    ),
    action: db.prepare(
      `INSERT INTO ${tables}agent_actions (agent_id, seq, type, ts, actor) VALUES (?, ?, ?, ?, ?)`,
    ),
    metricsInsert: db.prepare(
      `INSERT INTO ${tables}agent_metrics (agent_id, tier, status, registered_at, tier_since, token_hash)
       VALUES (?, ?, 'active', ?, ?, ?)`,
    ),
    token: db.prepare(`UPDATE ${tables}agent_metrics SET token_hash = ? WHERE agent_id = ?`),
    status: db.prepare(`UPDATE ${tables}agent_metrics SET status = ? WHERE agent_id = ?`),
    tier: db.prepare(
      `UPDATE ${tables}agent_metrics SET tier = ?, tier_since = ?, merged_prs_at_tier = 0 WHERE agent_id = ?`,
    ),
    violationCount: db.prepare(
      `UPDATE ${tables}agent_metrics SET violations_total = violations_total + 1,
         last_serious_violation_at = CASE WHEN ? THEN ? ELSE last_serious_violation_at END
       WHERE agent_id = ?`,
    ),
    violation: db.prepare(
      `INSERT INTO ${tables}violations (seq, agent_id, type, severity, consequence, budget_charge, ts, source, details)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    promotion: db.prepare(
      `INSERT INTO ${tables}promotions (seq, agent_id, kind, step, from_tier, to_tier, actor, ts, reason)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
  };
}
