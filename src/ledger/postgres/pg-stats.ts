import type pg from 'pg';
import type { LedgerStats } from '../queries/admin.js';

/** What `agov ledger stats` shows of a PostgreSQL ledger, as `ledgerStats` of a SQLite one, and the pending outbox. */
export async function pgLedgerStats(
  db: Pick<pg.ClientBase, 'query'>,
): Promise<LedgerStats & { outboxPending: number }> {
  const byType = await db.query<{ type: string; n: number }>(
    'SELECT type, count(*)::int AS n FROM ledger_entries GROUP BY type ORDER BY type COLLATE "C"',
  );
  const counts = await db.query<{ agents: number; violations: number; checkpoints: number; outbox: number }>(
    `SELECT (SELECT count(*)::int FROM agent_metrics) AS agents,
            (SELECT count(*)::int FROM violations) AS violations,
            (SELECT count(*)::int FROM checkpoints) AS checkpoints,
            (SELECT count(*)::int FROM outbox WHERE status = 'pending') AS outbox`,
  );
  const { agents, violations, checkpoints, outbox } = counts.rows[0]!;
  return {
    entriesByType: byType.rows.map((r) => ({ type: r.type, count: r.n })),
    agents,
    violations,
    checkpoints,
    outboxPending: outbox,
  };
}
