import type { LedgerPayload } from '../../core/ledger-entries.js';
import type { LedgerDb } from '../open-ledger-db.js';
import { asyncReads, getQuery, perDatabase } from './query.js';

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

/** The queries of a ledger, one per database. */
export const councilQueries = perDatabase((db) => new CouncilQueries(db));
