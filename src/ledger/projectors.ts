/**
 * One small projector per entry type: the row changes an entry of that type implies for the query
 * tables, as values (pure: no statement, no engine). The append path and verify's replay of both
 * engines run these, through `projectEntry`.
 */
import type { LedgerEntry, LedgerEntryType } from '../core/ledger-entries.js';
import { type ProjectionWrite, write } from './projection-writes.js';

type EntryOf<T extends LedgerEntryType> = Extract<LedgerEntry, { type: T }>;

/** The rows of an entry about a pull request, whether or not an agent is known. */
type PullRequestProjector<T extends LedgerEntryType> = (entry: EntryOf<T>) => ProjectionWrite[];

/** The rows of an entry about an agent; only asked when the entry names one. */
type AgentProjector<T extends LedgerEntryType> = (entry: EntryOf<T>, agentId: string) => ProjectionWrite[];

/** A projector of either table, once looked up by an entry's type (which the table keys match). */
export type AnyPullRequestProjector = (entry: LedgerEntry) => ProjectionWrite[];
export type AnyAgentProjector = (entry: LedgerEntry, agentId: string) => ProjectionWrite[];

export const PULL_REQUEST_PROJECTORS: { [T in LedgerEntryType]?: PullRequestProjector<T> } = {
  'decision.recorded': ({ seq, ts, agentId, payload: p }) => [
    write('decision', seq, p.repository, p.number, p.headSha, agentId, p.outcome, ts),
  ],
  'approval.recorded': ({ seq, ts, payload: p }) => [
    write(
      'approval',
      seq,
      p.repository,
      p.number,
      p.approver,
      p.verdict,
      p.gate,
      p.headSha,
      p.diffHash,
      p.policyVersion,
      p.source,
      ts,
    ),
  ],
};

export const AGENT_PROJECTORS: { [T in LedgerEntryType]?: AgentProjector<T> } = {
  'agent.registered': ({ ts, payload: p }, agentId) => [
    write('metricsInsert', agentId, p.tier, 'active', ts, ts, p.tokenHash),
  ],
  'agent.token_rotated': ({ payload: p }, agentId) => [write('token', p.tokenHash, agentId)],
  'agent.status_changed': (entry, agentId) => {
    const p = entry.payload;
    const status = write('status', p.to, agentId);
    // Only a revocation and its undoing are steps of the promotions history; a pause is not.
    if (p.to !== 'revoked' && p.from !== 'revoked') return [status];
    const kind = p.to === 'revoked' ? 'revocation' : 'reinstatement';
    return [status, historyRow(entry, agentId, { kind, step: 'applied', reason: p.reason })];
  },
  'agent.tier_changed': (entry, agentId) => {
    const p = entry.payload;
    return [
      write('tier', p.to, entry.ts, agentId),
      historyRow(entry, agentId, { kind: p.kind, step: 'applied', from: p.from, to: p.to, reason: p.reason }),
    ];
  },
  'violation.recorded': ({ seq, ts, payload: p }, agentId) => {
    const serious = p.severity === 'critical' || p.severity === 'high' ? 1 : 0;
    return [
      write(
        'violation',
        seq,
        agentId,
        p.violation,
        p.severity,
        p.consequence,
        p.budgetCharge,
        ts,
        p.source,
        p.details,
      ),
      write('violationCount', serious, ts, agentId),
    ];
  },
  'pr.merged': (_entry, agentId) => [write('merged', agentId)],
  'promotion.requested': (entry, agentId) => {
    const p = entry.payload;
    const reason = `${p.promotionId}: ${p.reason}`;
    return [historyRow(entry, agentId, { kind: p.kind, step: 'requested', from: p.from, to: p.to, reason })];
  },
  'promotion.voted': (entry, agentId) => {
    const p = entry.payload;
    const step = p.verdict === 'approve' ? 'approved' : 'rejected';
    return [historyRow(entry, agentId, { kind: 'vote', step, reason: `${p.promotionId}: ${p.reason}` })];
  },
  'promotion.resolved': (entry, agentId) => {
    const p = entry.payload;
    // An applied move is in the history already: the tier or status change written with it.
    if (p.outcome !== 'rejected') return [];
    return [
      historyRow(entry, agentId, {
        kind: 'resolution',
        step: 'rejected',
        reason: `${p.promotionId}: ${p.detail}`,
      }),
    ];
  },
  'revocation.requested': (entry, agentId) => {
    const p = entry.payload;
    return [
      historyRow(entry, agentId, {
        kind: 'revocation',
        step: 'requested',
        reason: `${p.revocationId}: ${p.reason}`,
      }),
    ];
  },
  'revocation.effect': (entry, agentId) => {
    const p = entry.payload;
    const step = `${p.effect}: ${p.ok ? 'held' : 'failed'}`;
    return [
      historyRow(entry, agentId, { kind: 'revocation', step, reason: `${p.revocationId}: ${p.detail}` }),
    ];
  },
  'revocation.confirmed': (entry, agentId) => [
    historyRow(entry, agentId, { kind: 'revocation', step: 'confirmed', reason: entry.payload.revocationId }),
  ],
};

/** One row of an agent's promotions history: tier and status moves, votes, revocation steps. */
function historyRow(
  entry: LedgerEntry,
  agentId: string,
  row: { kind: string; step: string; from?: string; to?: string; reason: string },
): ProjectionWrite {
  return write(
    'promotion',
    entry.seq,
    agentId,
    row.kind,
    row.step,
    row.from ?? null,
    row.to ?? null,
    entry.actor,
    entry.ts,
    row.reason,
  );
}

/** A table as a map from type to projector: a lookup that never finds an inherited property. */
export function projectorMap<P>(table: { [T in LedgerEntryType]?: unknown }): ReadonlyMap<string, P> {
  return new Map(Object.entries(table) as [string, P][]);
}
