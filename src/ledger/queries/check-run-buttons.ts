import type { LedgerPayload } from '../../core/ledger-entries.js';
import { dbOf, type LedgerSource } from '../ledger.js';
import type { LedgerDb } from '../open-ledger-db.js';

type Click = LedgerPayload<'check_run.button'>;

/** An accepted "Ask approvers again", as the reminder limit reads it. */
export interface AskedApprovers {
  ts: string;
  sender: string;
}

// Clicks are rare: the `(type, agent_id)` index narrows to them, and the JSON is matched in SQL.
function prepare(db: LedgerDb) {
  return {
    ofDelivery: db.prepare<[number], { payload: string }>(
      `-- SQLite-only: json_extract (PostgreSQL: payload::jsonb ->> 'field')
       SELECT payload FROM ledger_entries WHERE type = 'check_run.button'
          AND json_extract(payload, '$.deliverySeq') = ? LIMIT 1`,
    ),
    lastAsked: db.prepare<[string, number, string], { ts: string; payload: string }>(
      `SELECT ts, payload FROM ledger_entries WHERE type = 'check_run.button'
          AND json_extract(payload, '$.repository') = ? AND json_extract(payload, '$.number') = ?
          AND json_extract(payload, '$.headSha') = ? AND json_extract(payload, '$.button') = 'ask_approvers'
          AND json_extract(payload, '$.accepted') = 1
        ORDER BY seq DESC LIMIT 1`,
    ),
  };
}

const cache = new WeakMap<LedgerDb, ReturnType<typeof prepare>>();
const statements = (db: LedgerDb) => cache.get(db) ?? cache.set(db, prepare(db)).get(db)!;

/** The click a webhook delivery already recorded (its processing is being retried), or null. */
export function clickOfDelivery(store: LedgerSource, deliverySeq: number): Click | null {
  const row = statements(dbOf(store)).ofDelivery.get(deliverySeq);
  return row ? (JSON.parse(row.payload) as Click) : null;
}

/** The newest accepted "Ask approvers again" on a PR at a commit, or null. */
export function lastAskedApprovers(
  store: LedgerSource,
  repository: string,
  number: number,
  headSha: string,
): AskedApprovers | null {
  const row = statements(dbOf(store)).lastAsked.get(repository, number, headSha);
  return row ? { ts: row.ts, sender: (JSON.parse(row.payload) as Click).sender } : null;
}
