import type { LockEvent } from '../../core/execution-locks.js';
import type { LedgerPayload } from '../../core/ledger-entries.js';
import { dbOf, type LedgerSource } from '../ledger.js';
import type { LedgerDb } from '../open-ledger-db.js';

function prepare(db: LedgerDb) {
  return {
    history: db.prepare<[], { ts: string; agent_id: string | null; payload: string }>(
      "SELECT ts, agent_id, payload FROM ledger_entries WHERE type = 'execution.lock' ORDER BY seq",
    ),
  };
}

const cache = new WeakMap<LedgerDb, ReturnType<typeof prepare>>();
const statements = (db: LedgerDb) => cache.get(db) ?? cache.set(db, prepare(db)).get(db)!;

/** Every execution lock event the ledger holds, oldest first. */
export function lockHistory(store: LedgerSource): LockEvent[] {
  const db = dbOf(store);
  return statements(db)
    .history.all()
    .map((r) => ({
      ts: r.ts,
      agentId: r.agent_id,
      payload: JSON.parse(r.payload) as LedgerPayload<'execution.lock'>,
    }));
}
