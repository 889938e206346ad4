import type { LedgerEntry } from '../core/ledger-entries.js';
import type { AsyncLedger, LedgerVerdict } from '../ledger/async-ledger.js';
import { openLedger } from '../ledger/ledger.js';
import { openPostgresLedger } from '../ledger/postgres/postgres-ledger.js';
import { adminAsync } from '../ledger/queries/admin.js';
import { SqliteAsyncLedger } from '../ledger/sqlite-async-ledger.js';

/** The ledger a run's replicas share: a SQLite file, or a PostgreSQL database. */
export type ChaosLedger = { sqlite: string } | { postgres: string };

/** The shared ledger, opened to read what the replicas wrote (the run itself writes nothing). */
export async function openChaosLedger(ledger: ChaosLedger): Promise<AsyncLedger> {
  if ('sqlite' in ledger)
    return new SqliteAsyncLedger(openLedger(ledger.sqlite, { readonly: true, mustExist: true }));
  return openPostgresLedger(ledger.postgres, undefined, 2, { mustExist: true });
}

/** Calls not delivered yet and webhook deliveries not processed yet. */
export function backlogOf(store: AsyncLedger): Promise<{ outbox: number; inbox: number }> {
  return adminAsync.backlog(store.reader);
}

/** What the invariants read from the ledger after a run, on either engine, read once. */
export interface LedgerFacts {
  /** The whole chain, oldest first. */
  rows: LedgerEntry[];
  /** The chain and every projection rebuilt from it, compared. */
  verdict: LedgerVerdict;
  backlog: { outbox: number; inbox: number };
  /** Where the consequences follower stands. */
  consequencesAt: number;
  outboxByStatus: { status: string; count: number }[];
}

export async function ledgerFacts(store: AsyncLedger): Promise<LedgerFacts> {
  return {
    rows: await adminAsync.allEntries(store.reader),
    verdict: await store.verify(),
    backlog: await backlogOf(store),
    consequencesAt: await store.followers.position('consequences'),
    outboxByStatus: await adminAsync.outboxCountsByStatus(store.reader),
  };
}
