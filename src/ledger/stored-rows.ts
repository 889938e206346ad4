import type { LedgerDb } from './open-ledger-db.js';

/*
 * Imported by the chain-check worker: no module of the ledger (a worker that loads them spends
 * more time starting than checking).
 */

/**
 * The `agent_actions` rows the chain writes, as one query over `ledger_entries`: `apply` adds a
 * row (agent_id, seq, type, ts, actor) for every entry with an agent, copied as stored, and nothing
 * else writes the table. Verify compares the stored table with this set at once rather than
 * replaying a row per entry; keep the two in step.
 */
export const AGENT_ACTIONS_FROM_CHAIN = `SELECT agent_id, seq, type, ts, actor FROM main.ledger_entries NOT INDEXED
  WHERE agent_id IS NOT NULL AND agent_id <> '' AND seq <= ?`;

/** The columns of `agent_actions`, as this build's migrations create them. */
export const AGENT_ACTION_COLUMNS: readonly string[] = ['agent_id', 'seq', 'type', 'ts', 'actor'];

/** How many rows a set holds, and whether the stored table holds every one of them. */
export interface RowsStored {
  count: number;
  allStored: boolean;
}

/**
 * Counts the rows of `replayed` (a table or a subquery, with `params`) and looks for one that the
 * stored `table` does not hold (`allStored`). A stored table holding all of a set of distinct rows
 * and as many rows as it has is equal to it (the other direction is not enough: the stored
 * table's schema is the attacker's, and a table rebuilt without its key could hold one row twice
 * in place of another).
 */
export function rowsStored(
  db: LedgerDb,
  table: string,
  columns: readonly string[],
  replayed: string,
  params: unknown[],
): RowsStored {
  const count = db
    .prepare(`SELECT count(*) FROM ${replayed}`)
    .pluck()
    .get(...params) as number;
  return { count, allStored: allStored(db, table, columns, replayed, params) };
}

/**
 * Whether the stored `table` holds every row of `replayed`, every column of `columns` compared:
 * read from the stored rows themselves, never from an index.
 */
export function allStored(
  db: LedgerDb,
  table: string,
  columns: readonly string[],
  replayed: string,
  params: unknown[],
): boolean {
  // `seq` first where there is one: rows then compare on a number before any text.
  // Each column compared byte for byte (BINARY), whatever collation the stored table declares.
  const list = [...columns]
    .sort((a, b) => Number(b === 'seq') - Number(a === 'seq'))
    .map((c) => `${c} COLLATE BINARY AS ${c}`)
    .join(', ');
  const missing = db
    .prepare(
      `SELECT 1 FROM (SELECT ${list} FROM ${replayed} EXCEPT SELECT ${list} FROM main.${table} NOT INDEXED) LIMIT 1`,
    )
    .get(...params);
  return missing === undefined;
}

/**
 * Whether the stored `agent_actions` holds every row the chain up to entry `upTo` writes (the
 * chain check counts them: `ChainCheck.withAgent`).
 */
export function actionsAllStored(db: LedgerDb, upTo: number): boolean {
  return allStored(db, 'agent_actions', AGENT_ACTION_COLUMNS, `(${AGENT_ACTIONS_FROM_CHAIN})`, [upTo]);
}

/** How many rows the stored `table` holds: the rows themselves, never an index a count could be read from. */
export function storedCount(db: LedgerDb, table: string): number {
  return db.prepare(`SELECT count(*) FROM main.${table} NOT INDEXED`).pluck().get() as number;
}
