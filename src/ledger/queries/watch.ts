import type { LedgerPayload } from '../../core/ledger-entries.js';
import type { LedgerSource } from '../ledger.js';
import { perEngine } from '../ledger-reader.js';
import { requestWaits } from './approvals.js';
import { allQuery, asyncReads } from './query.js';

/** A Slack approval request still waiting, with its deadline. */
export interface WaitingApproval {
  key: string;
  agentId: string;
  expiresAt: string;
}

const queries = {
  openFindingKeys: allQuery<[], { type: 'finding.raised' | 'finding.resolved'; payload: string }, string[]>({
    sql: "SELECT type, payload FROM ledger_entries WHERE type IN ('finding.raised', 'finding.resolved') ORDER BY seq",
    map: (rows) => {
      const open = new Set<string>();
      for (const r of rows) {
        const { key } = JSON.parse(r.payload) as LedgerPayload<'finding.raised' | 'finding.resolved'>;
        if (r.type === 'finding.raised') open.add(key);
        else open.delete(key);
      }
      return [...open];
    },
  }),
  waitingSlackApprovals: allQuery<
    [],
    { approval_key: string; agent_id: string; context: string },
    WaitingApproval[]
  >({
    sql: perEngine(
      (d) => `SELECT approval_key, agent_id, context FROM slack_approvals WHERE ${requestWaits(d)}
        ORDER BY ${d.byText('created_at')}, ${d.byText('approval_key')}`,
    ),
    map: (rows) =>
      rows.map((r) => ({
        key: r.approval_key,
        agentId: r.agent_id,
        expiresAt: (JSON.parse(r.context) as { expiresAt: string }).expiresAt,
      })),
  }),
};

/** The queries of this module on either engine, through a `LedgerReader`. */
export const watchAsync = asyncReads(queries);

/** Keys of the findings raised and not resolved since. */
export function openFindingKeys(store: LedgerSource): string[] {
  return queries.openFindingKeys.sync(store);
}

/** Slack approval requests still pending, with the deadline their context records. */
export function waitingSlackApprovals(store: LedgerSource): WaitingApproval[] {
  return queries.waitingSlackApprovals.sync(store);
}
