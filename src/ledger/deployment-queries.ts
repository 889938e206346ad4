import type { LedgerPayload } from '../core/ledger-entries.js';
import { dbOf, type LedgerSource } from './ledger.js';

/**
 * The deployments an agent has waiting: for each (repository, run, environment), the newest
 * `deployment.decided` entry, when it is the agent's and says `waiting`. The kill switch rejects them.
 */
export function waitingDeployments(
  store: LedgerSource,
  agentId: string,
): LedgerPayload<'deployment.decided'>[] {
  const db = dbOf(store);
  const rows = db
    .prepare(
      `SELECT e.payload FROM ledger_entries e
       WHERE e.type = 'deployment.decided' AND e.agent_id = ?
         AND e.seq = (
           SELECT MAX(e2.seq) FROM ledger_entries e2
           WHERE e2.type = 'deployment.decided'
             AND json_extract(e2.payload, '$.repository') = json_extract(e.payload, '$.repository')
             AND json_extract(e2.payload, '$.runId') = json_extract(e.payload, '$.runId')
             AND json_extract(e2.payload, '$.environment') = json_extract(e.payload, '$.environment'))`,
    )
    .all(agentId) as { payload: string }[];
  return rows
    .map((r) => JSON.parse(r.payload) as LedgerPayload<'deployment.decided'>)
    .filter((p) => p.state === 'waiting');
}
