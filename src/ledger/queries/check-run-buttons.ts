import type { LedgerPayload } from '../../core/ledger-entries.js';
import type { LedgerSource } from '../ledger.js';
import { perEngine } from '../ledger-reader.js';
import { asyncReads, getQuery } from './query.js';

type Click = LedgerPayload<'check_run.button'>;

/** An accepted "Ask approvers again", as the reminder limit reads it. */
export interface AskedApprovers {
  ts: string;
  sender: string;
}

// Clicks are rare: the `(type, agent_id)` index narrows to them, and the JSON is matched in SQL.
const queries = {
  clickOfDelivery: getQuery<[deliverySeq: number], { payload: string }, Click | null>({
    sql: perEngine(
      (d) => `SELECT payload FROM ledger_entries WHERE type = 'check_run.button'
          AND ${d.jsonIsNumber('payload', 'deliverySeq')} ORDER BY seq LIMIT 1`,
    ),
    map: (row) => (row ? (JSON.parse(row.payload) as Click) : null),
  }),
  lastAskedApprovers: getQuery<
    [repository: string, number: number, headSha: string],
    { ts: string; payload: string },
    AskedApprovers | null
  >({
    sql: perEngine(
      (d) => `SELECT ts, payload FROM ledger_entries WHERE type = 'check_run.button'
          AND ${d.jsonIsText('payload', 'repository')} AND ${d.jsonIsNumber('payload', 'number')}
          AND ${d.jsonIsText('payload', 'headSha')} AND ${d.jsonText('payload', 'button')} = 'ask_approvers'
          AND ${d.jsonIsTrue('payload', 'accepted')}
        ORDER BY seq DESC LIMIT 1`,
    ),
    map: (row) => (row ? { ts: row.ts, sender: (JSON.parse(row.payload) as Click).sender } : null),
  }),
};

/** The queries of this module on either engine, through a `LedgerReader`. */
export const checkRunButtonsAsync = asyncReads(queries);

/** The click a webhook delivery already recorded (its processing is being retried), or null. */
export function clickOfDelivery(store: LedgerSource, deliverySeq: number): Click | null {
  return queries.clickOfDelivery.sync(store, deliverySeq);
}

/** The newest accepted "Ask approvers again" on a PR at a commit, or null. */
export function lastAskedApprovers(
  store: LedgerSource,
  repository: string,
  number: number,
  headSha: string,
): AskedApprovers | null {
  return queries.lastAskedApprovers.sync(store, repository, number, headSha);
}
