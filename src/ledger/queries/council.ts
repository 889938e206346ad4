import type { LedgerPayload } from '../../core/ledger-entries.js';
import type { Ledger } from '../ledger.js';
import { dbOf } from '../ledger.js';
import type { LedgerDb } from '../open-ledger-db.js';
import { asyncReads, getQuery } from './query.js';

export type CouncilMembership = LedgerPayload<'council.membership'>;

const queries = {
  latestMembership: getQuery<[], { payload: string }, CouncilMembership | null>({
    sql: "SELECT payload FROM ledger_entries WHERE type = 'council.membership' ORDER BY seq DESC LIMIT 1",
    map: (row) => (row ? (JSON.parse(row.payload) as CouncilMembership) : null),
  }),
};

/** The queries of this module on either engine, through a `LedgerReader`. */
export const councilAsync = asyncReads(queries);

/** The council's membership as the ledger last recorded it (`council.membership` entries). */
export class CouncilQueries {
  constructor(private readonly db: LedgerDb) {}

  /** The newest membership recorded; null before the user group was first read. */
  latestMembership(): CouncilMembership | null {
    return queries.latestMembership.sync(this.db);
  }
}

const cache = new WeakMap<LedgerDb, CouncilQueries>();

/** The council queries of a ledger, one per database. */
export function councilQueries(ledger: Ledger): CouncilQueries {
  let queries = cache.get(dbOf(ledger));
  if (!queries) {
    queries = new CouncilQueries(dbOf(ledger));
    cache.set(dbOf(ledger), queries);
  }
  return queries;
}
