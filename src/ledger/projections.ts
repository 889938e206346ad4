import type { Statement } from 'better-sqlite3';
import type { LedgerEntry } from '../core/ledger-entries.js';
import type { LedgerDb } from './open-ledger-db.js';

/**
 * The tables `Projections` writes, each with its primary key: everything in them follows from the
 * chain, so verify rebuilds them from it and compares.
 */
export const PROJECTION_TABLES = [
  { table: 'agent_actions', key: ['agent_id', 'seq'] },
  { table: 'agent_metrics', key: ['agent_id'] },
  { table: 'violations', key: ['seq'] },
  { table: 'promotions', key: ['seq'] },
  { table: 'decisions', key: ['seq'] },
  { table: 'approvals', key: ['seq'] },
] as const;

/**
 * The `agent_actions` rows the chain writes, as one query over `ledger_entries`: `apply` adds a
 * row (agent_id, seq, type, ts, actor) for every entry with an agent, copied as stored, and nothing
 * else writes the table. Verify compares the stored table with this set at once rather than
 * replaying a row per entry; keep the two in step.
 */
export const AGENT_ACTIONS_FROM_CHAIN = `SELECT agent_id, seq, type, ts, actor FROM main.ledger_entries NOT INDEXED
  WHERE agent_id IS NOT NULL AND agent_id <> '' AND seq <= ?`;

/**
 * The entry types `apply` does more for than an `agent_actions` row. Verify replays only these
 * through `apply` (with `actions: false`). A type missing here would make verify report the stored
 * projections as differing from the chain, never the reverse.
 */
export const PROJECTED_TYPES = [
  'decision.recorded',
  'approval.recorded',
  'agent.registered',
  'agent.token_rotated',
  'agent.status_changed',
  'agent.tier_changed',
  'violation.recorded',
  'pr.merged',
  'promotion.requested',
  'promotion.voted',
  'promotion.resolved',
  'revocation.requested',
  'revocation.effect',
  'revocation.confirmed',
] as const;

/**
 * Writes the query tables (`agent_actions`, `agent_metrics`, `violations`, `promotions`) for one
 * entry. Called inside the append transaction, so projections never lag the chain. An agent's last
 * activity is the newest row of `agent_actions`; it is not copied into `agent_metrics`, so most
 * appends touch only two pages.
 */
export class Projections {
  private readonly action: Statement;
  private readonly metricsInsert: Statement;
  private readonly status: Statement;
  private readonly tier: Statement;
  private readonly violationCount: Statement;
  private readonly violation: Statement;
  private readonly promotion: Statement;
  private readonly decision: Statement;
  private readonly token: Statement;
  private readonly approval: Statement;
  private readonly merged: Statement;

  /**
   * `tables`: where the tables are, `main.` for the ledger's; verify replays into its own.
   * `actions: false` leaves `agent_actions` alone (verify checks it with AGENT_ACTIONS_FROM_CHAIN).
   */
  constructor(
    db: LedgerDb,
    tables = 'main.',
    private readonly options: { actions: boolean } = { actions: true },
  ) {
    this.decision = db.prepare(
      `INSERT INTO ${tables}decisions (seq, repository, number, head_sha, agent_id, outcome, ts) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    this.approval = db.prepare(
      `INSERT INTO ${tables}approvals (seq, repository, number, approver, verdict, gate, head_sha, diff_hash, policy_version, source, ts)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.merged = db.prepare(
      `UPDATE ${tables}agent_metrics SET merged_prs_at_tier = merged_prs_at_tier + 1, merged_prs_total = merged_prs_total + 1 WHERE agent_id = ?`,
    );
    this.action = db.prepare(
      `INSERT INTO ${tables}agent_actions (agent_id, seq, type, ts, actor) VALUES (?, ?, ?, ?, ?)`,
    );
    this.metricsInsert = db.prepare(
      `INSERT INTO ${tables}agent_metrics (agent_id, tier, status, registered_at, tier_since, token_hash)
       VALUES (?, ?, 'active', ?, ?, ?)`,
    );
    this.token = db.prepare(`UPDATE ${tables}agent_metrics SET token_hash = ? WHERE agent_id = ?`);
    this.status = db.prepare(`UPDATE ${tables}agent_metrics SET status = ? WHERE agent_id = ?`);
    this.tier = db.prepare(
      `UPDATE ${tables}agent_metrics SET tier = ?, tier_since = ?, merged_prs_at_tier = 0 WHERE agent_id = ?`,
    );
    this.violationCount = db.prepare(
      `UPDATE ${tables}agent_metrics SET violations_total = violations_total + 1,
         last_serious_violation_at = CASE WHEN ? THEN ? ELSE last_serious_violation_at END
       WHERE agent_id = ?`,
    );
    this.violation = db.prepare(
      `INSERT INTO ${tables}violations (seq, agent_id, type, severity, consequence, budget_charge, ts, source, details)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.promotion = db.prepare(
      `INSERT INTO ${tables}promotions (seq, agent_id, kind, step, from_tier, to_tier, actor, ts, reason)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
  }

  apply(entry: LedgerEntry): void {
    // Projections keyed by pull request, whether or not an agent is known.
    if (entry.type === 'decision.recorded') {
      const p = entry.payload;
      this.decision.run(entry.seq, p.repository, p.number, p.headSha, entry.agentId, p.outcome, entry.ts);
    } else if (entry.type === 'approval.recorded') {
      const p = entry.payload;
      this.approval.run(
        entry.seq,
        p.repository,
        p.number,
        p.approver,
        p.verdict,
        p.gate,
        p.headSha,
        p.diffHash,
        p.policyVersion,
        p.source,
        entry.ts,
      );
    }
    const agentId = entry.agentId;
    if (!agentId) return;
    if (this.options.actions) this.action.run(agentId, entry.seq, entry.type, entry.ts, entry.actor);
    switch (entry.type) {
      case 'agent.registered':
        this.metricsInsert.run(agentId, entry.payload.tier, entry.ts, entry.ts, entry.payload.tokenHash);
        return;
      case 'agent.token_rotated':
        this.token.run(entry.payload.tokenHash, agentId);
        break;
      case 'agent.status_changed':
        this.status.run(entry.payload.to, agentId);
        if (entry.payload.to === 'revoked' || entry.payload.from === 'revoked') {
          const kind = entry.payload.to === 'revoked' ? 'revocation' : 'reinstatement';
          this.promotion.run(
            entry.seq,
            agentId,
            kind,
            'applied',
            null,
            null,
            entry.actor,
            entry.ts,
            entry.payload.reason,
          );
        }
        break;
      case 'agent.tier_changed':
        this.tier.run(entry.payload.to, entry.ts, agentId);
        this.promotion.run(
          entry.seq,
          agentId,
          entry.payload.kind,
          'applied',
          entry.payload.from,
          entry.payload.to,
          entry.actor,
          entry.ts,
          entry.payload.reason,
        );
        break;
      case 'violation.recorded': {
        const p = entry.payload;
        const serious = p.severity === 'critical' || p.severity === 'high' ? 1 : 0;
        this.violation.run(
          entry.seq,
          agentId,
          p.violation,
          p.severity,
          p.consequence,
          p.budgetCharge,
          entry.ts,
          p.source,
          p.details,
        );
        this.violationCount.run(serious, entry.ts, agentId);
        break;
      }
      case 'pr.merged':
        this.merged.run(agentId);
        break;
      case 'promotion.requested': {
        const p = entry.payload;
        this.promotion.run(
          entry.seq,
          agentId,
          p.kind,
          'requested',
          p.from,
          p.to,
          entry.actor,
          entry.ts,
          `${p.promotionId}: ${p.reason}`,
        );
        break;
      }
      case 'promotion.voted':
        this.promotion.run(
          entry.seq,
          agentId,
          'vote',
          entry.payload.verdict === 'approve' ? 'approved' : 'rejected',
          null,
          null,
          entry.actor,
          entry.ts,
          `${entry.payload.promotionId}: ${entry.payload.reason}`,
        );
        break;
      case 'promotion.resolved':
        if (entry.payload.outcome === 'rejected') {
          this.promotion.run(
            entry.seq,
            agentId,
            'resolution',
            'rejected',
            null,
            null,
            entry.actor,
            entry.ts,
            `${entry.payload.promotionId}: ${entry.payload.detail}`,
          );
        }
        break;
      case 'revocation.requested':
        this.promotion.run(
          entry.seq,
          agentId,
          'revocation',
          'requested',
          null,
          null,
          entry.actor,
          entry.ts,
          `${entry.payload.revocationId}: ${entry.payload.reason}`,
        );
        break;
      case 'revocation.effect': {
        const p = entry.payload;
        this.promotion.run(
          entry.seq,
          agentId,
          'revocation',
          `${p.effect}: ${p.ok ? 'held' : 'failed'}`,
          null,
          null,
          entry.actor,
          entry.ts,
          `${p.revocationId}: ${p.detail}`,
        );
        break;
      }
      case 'revocation.confirmed':
        this.promotion.run(
          entry.seq,
          agentId,
          'revocation',
          'confirmed',
          null,
          null,
          entry.actor,
          entry.ts,
          entry.payload.revocationId,
        );
        break;
      default:
        break;
    }
  }
}
