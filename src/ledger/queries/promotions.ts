import type { LedgerPayload } from '../../core/ledger-entries.js';
import { dbOf, type LedgerSource } from '../ledger.js';
import type { LedgerDb } from '../open-ledger-db.js';

type PromotionType = 'promotion.requested' | 'promotion.voted' | 'promotion.resolved';

/** One entry of a promotion's history: its request, a vote, or its resolution. */
export type PromotionEntry = {
  [T in PromotionType]: { type: T; actor: string; ts: string; payload: LedgerPayload<T> };
}[PromotionType];

function prepare(db: LedgerDb) {
  return {
    ofAgent: db.prepare<[string], { type: PromotionType; actor: string; ts: string; payload: string }>(
      `SELECT e.type, e.actor, e.ts, e.payload FROM agent_actions a JOIN ledger_entries e ON e.seq = a.seq
        WHERE a.agent_id = ? AND a.type IN ('promotion.requested', 'promotion.voted', 'promotion.resolved')
        ORDER BY a.seq`,
    ),
    requested: db.prepare<[], { payload: string }>(
      "SELECT payload FROM ledger_entries WHERE type = 'promotion.requested' ORDER BY seq DESC",
    ),
    requestedBy: db.prepare<[string], { payload: string }>(
      "SELECT payload FROM ledger_entries WHERE type = 'promotion.requested' AND agent_id = ? ORDER BY seq DESC",
    ),
  };
}

const cache = new WeakMap<LedgerDb, ReturnType<typeof prepare>>();
const statements = (db: LedgerDb) => cache.get(db) ?? cache.set(db, prepare(db)).get(db)!;

/** Every promotion request, vote and resolution of the agent, oldest first. */
export function promotionEntriesOf(store: LedgerSource, agentId: string): PromotionEntry[] {
  const db = dbOf(store);
  return statements(db)
    .ofAgent.all(agentId)
    .map(
      (r) => ({ type: r.type, actor: r.actor, ts: r.ts, payload: JSON.parse(r.payload) }) as PromotionEntry,
    );
}

/** The history of one promotion of the agent, oldest first: its request first, when there is one. */
export function promotionHistory(
  store: LedgerSource,
  agentId: string,
  promotionId: string,
): PromotionEntry[] {
  const db = dbOf(store);
  return promotionEntriesOf(db, agentId).filter((e) => e.payload.promotionId === promotionId);
}

/** The promotions of the agent requested and not resolved yet. */
export function pendingPromotionIds(store: LedgerSource, agentId: string): string[] {
  const db = dbOf(store);
  const entries = promotionEntriesOf(db, agentId);
  const resolved = new Set(
    entries.filter((e) => e.type === 'promotion.resolved').map((e) => e.payload.promotionId),
  );
  return entries
    .filter((e) => e.type === 'promotion.requested' && !resolved.has(e.payload.promotionId))
    .map((e) => e.payload.promotionId);
}

/** The id of every promotion request (of one agent, or all), newest first. */
export function requestedPromotionIds(store: LedgerSource, agentId?: string): string[] {
  const db = dbOf(store);
  const s = statements(db);
  const rows = agentId === undefined ? s.requested.all() : s.requestedBy.all(agentId);
  return rows.map((r) => (JSON.parse(r.payload) as LedgerPayload<'promotion.requested'>).promotionId);
}
