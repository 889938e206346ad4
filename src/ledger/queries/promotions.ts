import type { LedgerPayload } from '../../core/ledger-entries.js';
import type { LedgerSource } from '../ledger.js';
import { allQuery, asyncReads } from './query.js';

type PromotionType = 'promotion.requested' | 'promotion.voted' | 'promotion.resolved';

/** One entry of a promotion's history: its request, a vote, or its resolution. */
export type PromotionEntry = {
  [T in PromotionType]: { type: T; actor: string; ts: string; payload: LedgerPayload<T> };
}[PromotionType];

type PromotionRow = { type: PromotionType; actor: string; ts: string; payload: string };

const toEntries = (rows: PromotionRow[]) =>
  rows.map(
    (r) => ({ type: r.type, actor: r.actor, ts: r.ts, payload: JSON.parse(r.payload) }) as PromotionEntry,
  );

const OF_AGENT = `SELECT e.type, e.actor, e.ts, e.payload FROM agent_actions a JOIN ledger_entries e ON e.seq = a.seq
        WHERE a.agent_id = ? AND a.type IN ('promotion.requested', 'promotion.voted', 'promotion.resolved')
        ORDER BY a.seq`;

const queries = {
  promotionEntriesOf: allQuery<[agentId: string], PromotionRow, PromotionEntry[]>({
    sql: OF_AGENT,
    map: toEntries,
  }),
  promotionHistory: allQuery<[agentId: string, promotionId: string], PromotionRow, PromotionEntry[]>({
    sql: OF_AGENT,
    bind: (agentId) => [agentId],
    map: (rows, _agentId, promotionId) =>
      toEntries(rows).filter((e) => e.payload.promotionId === promotionId),
  }),
  pendingPromotionIds: allQuery<[agentId: string], PromotionRow, string[]>({
    sql: OF_AGENT,
    map: (rows) => {
      const entries = toEntries(rows);
      const resolved = new Set(
        entries.filter((e) => e.type === 'promotion.resolved').map((e) => e.payload.promotionId),
      );
      return entries
        .filter((e) => e.type === 'promotion.requested' && !resolved.has(e.payload.promotionId))
        .map((e) => e.payload.promotionId);
    },
  }),
  requestedPromotionIds: allQuery<[agentId?: string], { payload: string }, string[]>({
    sql: (agentId) =>
      agentId === undefined
        ? "SELECT payload FROM ledger_entries WHERE type = 'promotion.requested' ORDER BY seq DESC"
        : "SELECT payload FROM ledger_entries WHERE type = 'promotion.requested' AND agent_id = ? ORDER BY seq DESC",
    bind: (agentId) => (agentId === undefined ? [] : [agentId]),
    map: (rows) =>
      rows.map((r) => (JSON.parse(r.payload) as LedgerPayload<'promotion.requested'>).promotionId),
  }),
};

/** The queries of this module on either engine, through a `LedgerReader`. */
export const promotionsAsync = asyncReads(queries);

/** Every promotion request, vote and resolution of the agent, oldest first. */
export function promotionEntriesOf(store: LedgerSource, agentId: string): PromotionEntry[] {
  return queries.promotionEntriesOf.sync(store, agentId);
}

/** The history of one promotion of the agent, oldest first: its request first, when there is one. */
export function promotionHistory(
  store: LedgerSource,
  agentId: string,
  promotionId: string,
): PromotionEntry[] {
  return queries.promotionHistory.sync(store, agentId, promotionId);
}

/** The promotions of the agent requested and not resolved yet. */
export function pendingPromotionIds(store: LedgerSource, agentId: string): string[] {
  return queries.pendingPromotionIds.sync(store, agentId);
}

/** The id of every promotion request (of one agent, or all), newest first. */
export function requestedPromotionIds(store: LedgerSource, agentId?: string): string[] {
  return queries.requestedPromotionIds.sync(store, agentId);
}
