import type { LedgerPayload } from '../../core/ledger-entries.js';
import { dbOf, type LedgerSource } from '../ledger.js';
import type { LedgerDb } from '../open-ledger-db.js';

/** A Slack approval request still waiting, with its deadline. */
export interface WaitingApproval {
  key: string;
  agentId: string;
  expiresAt: string;
}

function prepare(db: LedgerDb) {
  return {
    findings: db.prepare<[], { type: 'finding.raised' | 'finding.resolved'; payload: string }>(
      "SELECT type, payload FROM ledger_entries WHERE type IN ('finding.raised', 'finding.resolved') ORDER BY seq",
    ),
    waitingApprovals: db.prepare<[], { approval_key: string; agent_id: string; context: string }>(
      "SELECT approval_key, agent_id, context FROM slack_approvals WHERE state = 'pending'",
    ),
  };
}

const cache = new WeakMap<LedgerDb, ReturnType<typeof prepare>>();
const statements = (db: LedgerDb) => cache.get(db) ?? cache.set(db, prepare(db)).get(db)!;

/** Keys of the findings raised and not resolved since. */
export function openFindingKeys(store: LedgerSource): string[] {
  const db = dbOf(store);
  const open = new Set<string>();
  for (const r of statements(db).findings.all()) {
    const { key } = JSON.parse(r.payload) as LedgerPayload<'finding.raised' | 'finding.resolved'>;
    if (r.type === 'finding.raised') open.add(key);
    else open.delete(key);
  }
  return [...open];
}

/** Slack approval requests still pending, with the deadline their context records. */
export function waitingSlackApprovals(store: LedgerSource): WaitingApproval[] {
  const db = dbOf(store);
  return statements(db)
    .waitingApprovals.all()
    .map((r) => ({
      key: r.approval_key,
      agentId: r.agent_id,
      expiresAt: (JSON.parse(r.context) as { expiresAt: string }).expiresAt,
    }));
}
