import type { Statement } from 'better-sqlite3';
import type { LedgerPayload } from '../../core/ledger-entries.js';
import type { Ledger } from '../ledger.js';
import { dbOf } from '../ledger.js';
import type { LedgerDb } from '../open-ledger-db.js';

export type CouncilMembership = LedgerPayload<'council.membership'>;

/** The council's membership as the ledger last recorded it (`council.membership` entries). */
export class CouncilQueries {
  private readonly selectLatest: Statement<[], { payload: string }>;

  constructor(db: LedgerDb) {
    this.selectLatest = db.prepare(
      "SELECT payload FROM ledger_entries WHERE type = 'council.membership' ORDER BY seq DESC LIMIT 1",
    );
  }

  /** The newest membership recorded; null before the user group was first read. */
  latestMembership(): CouncilMembership | null {
    const row = this.selectLatest.get();
    return row ? (JSON.parse(row.payload) as CouncilMembership) : null;
  }
}

const cache = new WeakMap<LedgerDb, CouncilQueries>();

/** The council queries of a ledger, their statements prepared once per database. */
export function councilQueries(ledger: Ledger): CouncilQueries {
  let queries = cache.get(dbOf(ledger));
  if (!queries) {
    queries = new CouncilQueries(dbOf(ledger));
    cache.set(dbOf(ledger), queries);
  }
  return queries;
}
