import type { LedgerEntry } from '../../core/ledger-entries.js';
import { dbOf, type EntryRow, type LedgerSource, rowToEntry } from '../ledger.js';
import type { LedgerDb } from '../open-ledger-db.js';

/** What `agov ledger stats` shows besides the head. */
export interface LedgerStats {
  entriesByType: { type: string; count: number }[];
  agents: number;
  violations: number;
  checkpoints: number;
}

function prepare(db: LedgerDb) {
  return {
    byType: db.prepare<[], { type: string; n: number }>(
      'SELECT type, COUNT(*) AS n FROM ledger_entries GROUP BY type ORDER BY type',
    ),
    counts: db.prepare<[], { agents: number; violations: number; checkpoints: number }>(
      `SELECT (SELECT COUNT(*) FROM agent_metrics) AS agents,
              (SELECT COUNT(*) FROM violations) AS violations,
              (SELECT COUNT(*) FROM checkpoints) AS checkpoints`,
    ),
    entries: db.prepare<[], EntryRow>(
      'SELECT seq, ts, type, agent_id, actor, payload, prev_hash, hash FROM ledger_entries ORDER BY seq',
    ),
    backlog: db.prepare<[], { outbox: number; inbox: number }>(
      `SELECT (SELECT COUNT(*) FROM outbox WHERE status != 'delivered') AS outbox,
              (SELECT COUNT(*) FROM inbox WHERE status != 'done') AS inbox`,
    ),
    outboxByStatus: db.prepare<[], { status: string; n: number }>(
      'SELECT status, COUNT(*) AS n FROM outbox GROUP BY status',
    ),
  };
}

const cache = new WeakMap<LedgerDb, ReturnType<typeof prepare>>();
const statements = (db: LedgerDb) => cache.get(db) ?? cache.set(db, prepare(db)).get(db)!;

export function ledgerStats(store: LedgerSource): LedgerStats {
  const db = dbOf(store);
  const s = statements(db);
  const counts = s.counts.get() ?? { agents: 0, violations: 0, checkpoints: 0 };
  return { entriesByType: s.byType.all().map((r) => ({ type: r.type, count: r.n })), ...counts };
}

/** The whole chain, oldest first (for checks after a run, not for a service's hot path). */
export function allEntries(store: LedgerSource): LedgerEntry[] {
  const db = dbOf(store);
  return statements(db).entries.all().map(rowToEntry);
}

/** Calls not delivered yet and webhook deliveries not processed yet. */
export function backlog(store: LedgerSource): { outbox: number; inbox: number } {
  const db = dbOf(store);
  return statements(db).backlog.get() ?? { outbox: 0, inbox: 0 };
}

/** Outbox calls counted by status. */
export function outboxCountsByStatus(store: LedgerSource): { status: string; count: number }[] {
  const db = dbOf(store);
  return statements(db)
    .outboxByStatus.all()
    .map((r) => ({ status: r.status, count: r.n }));
}
