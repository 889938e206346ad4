import type { LedgerEntry } from '../../core/ledger-entries.js';
import { type EntryRow, type LedgerSource, rowToEntry } from '../ledger.js';
import { perEngine } from '../ledger-reader.js';
import { allQuery, asyncReads, getQuery } from './query.js';

/** What `agov ledger stats` shows besides the head. */
export interface LedgerStats {
  entriesByType: { type: string; count: number }[];
  agents: number;
  violations: number;
  checkpoints: number;
}

const NO_COUNTS = { agents: 0, violations: 0, checkpoints: 0 };

const queries = {
  entriesByType: allQuery<[], { type: string; n: number }, LedgerStats['entriesByType']>({
    sql: perEngine(
      (d) => `SELECT type, COUNT(*) AS n FROM ledger_entries GROUP BY type ORDER BY ${d.byText('type')}`,
    ),
    map: (rows) => rows.map((r) => ({ type: r.type, count: r.n })),
  }),
  counts: getQuery<[], Omit<LedgerStats, 'entriesByType'>, Omit<LedgerStats, 'entriesByType'>>({
    sql: `SELECT (SELECT COUNT(*) FROM agent_metrics) AS agents,
              (SELECT COUNT(*) FROM violations) AS violations,
              (SELECT COUNT(*) FROM checkpoints) AS checkpoints`,
    map: (row) => row ?? NO_COUNTS,
  }),
  allEntries: allQuery<[], EntryRow, LedgerEntry[]>({
    sql: 'SELECT seq, ts, type, agent_id, actor, payload, prev_hash, hash FROM ledger_entries ORDER BY seq',
    map: (rows) => rows.map(rowToEntry),
  }),
  backlog: getQuery<[], { outbox: number; inbox: number }, { outbox: number; inbox: number }>({
    sql: `SELECT (SELECT COUNT(*) FROM outbox WHERE status != 'delivered') AS outbox,
              (SELECT COUNT(*) FROM inbox WHERE status != 'done') AS inbox`,
    map: (row) => row ?? { outbox: 0, inbox: 0 },
  }),
  outboxCountsByStatus: allQuery<[], { status: string; n: number }, { status: string; count: number }[]>({
    sql: perEngine(
      (d) => `SELECT status, COUNT(*) AS n FROM outbox GROUP BY status ORDER BY ${d.byText('status')}`,
    ),
    map: (rows) => rows.map((r) => ({ status: r.status, count: r.n })),
  }),
};

/** The queries of this module on either engine, through a `LedgerReader`. */
export const adminAsync = asyncReads(queries);

export function ledgerStats(store: LedgerSource): LedgerStats {
  return { entriesByType: queries.entriesByType.sync(store), ...queries.counts.sync(store) };
}

/** The whole chain, oldest first (for checks after a run, not for a service's hot path). */
export function allEntries(store: LedgerSource): LedgerEntry[] {
  return queries.allEntries.sync(store);
}

/** Calls not delivered yet and webhook deliveries not processed yet. */
export function backlog(store: LedgerSource): { outbox: number; inbox: number } {
  return queries.backlog.sync(store);
}

/** Outbox calls counted by status. */
export function outboxCountsByStatus(store: LedgerSource): { status: string; count: number }[] {
  return queries.outboxCountsByStatus.sync(store);
}
