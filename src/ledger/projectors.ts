/**
 * One small projector per entry type: the rows an entry of that type writes to the query tables.
 * The append path and verify's replay both run these, through `Projections`.
 */
import type { LedgerEntry, LedgerEntryType } from '../core/ledger-entries.js';
import type { ProjectionStatements } from './projection-statements.js';

type EntryOf<T extends LedgerEntryType> = Extract<LedgerEntry, { type: T }>;

/** Writes the rows of an entry about a pull request, whether or not an agent is known. */
type PullRequestProjector<T extends LedgerEntryType> = (s: ProjectionStatements, entry: EntryOf<T>) => void;

/** Writes the rows of an entry about an agent; only called when the entry names one. */
type AgentProjector<T extends LedgerEntryType> = (
  s: ProjectionStatements,
  entry: EntryOf<T>,
  agentId: string,
) => void;

/** A projector of either table, once looked up by an entry's type (which the table keys match). */
export type AnyPullRequestProjector = (s: ProjectionStatements, entry: LedgerEntry) => void;
export type AnyAgentProjector = (s: ProjectionStatements, entry: LedgerEntry, agentId: string) => void;

export const PULL_REQUEST_PROJECTORS: { [T in LedgerEntryType]?: PullRequestProjector<T> } = {
  'decision.recorded': (s, { seq, ts, agentId, payload: p }) =>
    s.decision.run(seq, p.repository, p.number, p.headSha, agentId, p.outcome, ts),
  'approval.recorded': (s, { seq, ts, payload: p }) =>
    s.approval.run(
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
};

export const AGENT_PROJECTORS: { [T in LedgerEntryType]?: AgentProjector<T> } = {
  'agent.registered': (s, { ts, payload: p }, agentId) =>
    s.metricsInsert.run(agentId, p.tier, ts, ts, p.tokenHash),
  'agent.token_rotated': (s, { payload: p }, agentId) => s.token.run(p.tokenHash, agentId),
  'agent.status_changed': (s, entry, agentId) => {
    const p = entry.payload;
    s.status.run(p.to, agentId);
    // Only a revocation and its undoing are steps of the promotions history; a pause is not.
    if (p.to !== 'revoked' && p.from !== 'revoked') return;
    const kind = p.to === 'revoked' ? 'revocation' : 'reinstatement';
    historyRow(s, entry, agentId, { kind, step: 'applied', reason: p.reason });
  },
  'agent.tier_changed': (s, entry, agentId) => {
    const p = entry.payload;
    s.tier.run(p.to, entry.ts, agentId);
    historyRow(s, entry, agentId, {
      kind: p.kind,
      step: 'applied',
      from: p.from,
      to: p.to,
      reason: p.reason,
    });
  },
  'violation.recorded': (s, { seq, ts, payload: p }, agentId) => {
    const serious = p.severity === 'critical' || p.severity === 'high' ? 1 : 0;
    s.violation.run(
      seq,
      agentId,
      p.violation,
      p.severity,
      p.consequence,
      p.budgetCharge,
      ts,
      p.source,
      p.details,
    );
    s.violationCount.run(serious, ts, agentId);
  },
  'pr.merged': (s, _entry, agentId) => s.merged.run(agentId),
  'promotion.requested': (s, entry, agentId) => {
    const p = entry.payload;
    const reason = `${p.promotionId}: ${p.reason}`;
    historyRow(s, entry, agentId, { kind: p.kind, step: 'requested', from: p.from, to: p.to, reason });
  },
  'promotion.voted': (s, entry, agentId) => {
    const p = entry.payload;
    const step = p.verdict === 'approve' ? 'approved' : 'rejected';
    historyRow(s, entry, agentId, { kind: 'vote', step, reason: `${p.promotionId}: ${p.reason}` });
  },
  'promotion.resolved': (s, entry, agentId) => {
    const p = entry.payload;
    // An applied move is in the history already: the tier or status change written with it.
    if (p.outcome !== 'rejected') return;
    historyRow(s, entry, agentId, {
      kind: 'resolution',
      step: 'rejected',
      reason: `${p.promotionId}: ${p.detail}`,
    });
  },
  'revocation.requested': (s, entry, agentId) => {
    const p = entry.payload;
    historyRow(s, entry, agentId, {
      kind: 'revocation',
      step: 'requested',
      reason: `${p.revocationId}: ${p.reason}`,
    });
  },
  'revocation.effect': (s, entry, agentId) => {
    const p = entry.payload;
    const step = `${p.effect}: ${p.ok ? 'held' : 'failed'}`;
    historyRow(s, entry, agentId, { kind: 'revocation', step, reason: `${p.revocationId}: ${p.detail}` });
  },
  'revocation.confirmed': (s, entry, agentId) =>
    historyRow(s, entry, agentId, {
      kind: 'revocation',
      step: 'confirmed',
      reason: entry.payload.revocationId,
    }),
};

/** One row of an agent's promotions history: tier and status moves, votes, revocation steps. */
function historyRow(
  s: ProjectionStatements,
  entry: LedgerEntry,
  agentId: string,
  row: { kind: string; step: string; from?: string; to?: string; reason: string },
): void {
  s.promotion.run(
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
