import type { LockEvent } from '../../core/execution-locks.js';
import type { LedgerPayload } from '../../core/ledger-entries.js';
import type { LedgerSource } from '../ledger.js';
import { allQuery, asyncReads } from './query.js';

const queries = {
  lockHistory: allQuery<[], { ts: string; agent_id: string | null; payload: string }, LockEvent[]>({
    sql: "SELECT ts, agent_id, payload FROM ledger_entries WHERE type = 'execution.lock' ORDER BY seq",
    map: (rows) =>
      rows.map((r) => ({
        ts: r.ts,
        agentId: r.agent_id,
        payload: JSON.parse(r.payload) as LedgerPayload<'execution.lock'>,
      })),
  }),
};

/** The queries of this module on either engine, through a `LedgerReader`. */
export const locksAsync = asyncReads(queries);

/** Every execution lock event the ledger holds, oldest first. */
export function lockHistory(store: LedgerSource): LockEvent[] {
  return queries.lockHistory.sync(store);
}
