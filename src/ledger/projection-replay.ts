import type { LedgerEntry } from '../core/ledger-entries.js';
import { readMigratedSchema } from './migrated-schema.js';
import type { LedgerDb } from './open-ledger-db.js';
import { describeMismatch, type ProjectionMismatch } from './projection-mismatch.js';
import { PROJECTED_TYPES, PROJECTION_TABLES, Projections } from './projections.js';
import { AGENT_ACTIONS_FROM_CHAIN, type RowsStored, rowsStored, storedCount } from './stored-rows.js';

/**
 * Where verify rebuilds the projections: temporary tables of the ledger's connection (writable on
 * a read-only connection too), named apart from the stored ones.
 */
const REPLAY = 'temp.agov_replay_';

export type { ProjectionMismatch };

let ddlCache: string[] | null = null;

/**
 * The projection tables as the migrations create them: from this build's code, never from the
 * file being verified, whose schema the attacker may have changed too.
 */
function projectionDdl(): string[] {
  ddlCache ??= readMigratedSchema((scratch) =>
    PROJECTION_TABLES.map(({ table }) => {
      const row = scratch
        .prepare<[string], { sql: string }>("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?")
        .get(table);
      if (!row) throw new Error(`the migrations create no table ${table}`);
      return row.sql.replace(/^CREATE TABLE (\w+)/, `CREATE TABLE ${REPLAY}$1`);
    }),
  );
  return ddlCache;
}

/**
 * Rebuilds the projection tables from the chain with the same `Projections` code the append path
 * runs, in temporary tables of the ledger's connection (none left from an interrupted run), then
 * compares them row by row with the stored tables. `agent_actions`, a row copied from each entry,
 * is compared with the chain by one query instead (rebuilt only to find its first bad row): only
 * the entries of PROJECTED_TYPES go through `apply`. Call `detach` when done.
 */
export class ProjectionReplay {
  private readonly projections: Projections;

  constructor(private readonly db: LedgerDb) {
    this.reset();
    try {
      this.projections = new Projections(db, REPLAY, { actions: false });
    } catch (error) {
      this.detach();
      throw error;
    }
  }

  /** Empty replayed tables, none left from an earlier replay or an interrupted run. */
  reset(): void {
    this.detach();
    try {
      for (const ddl of projectionDdl()) this.db.exec(ddl);
    } catch (error) {
      this.detach();
      throw error;
    }
  }

  apply(entry: LedgerEntry): void {
    this.projections.apply(entry);
  }

  /** The entry types `apply` must be given; the others only add the row of `agent_actions`. */
  static readonly types: readonly string[] = PROJECTED_TYPES;

  /**
   * The first row, table by table in key order, where the stored projections and the chain up to
   * entry `upTo` differ. `agent_actions` is compared last: `actionsInChain` may give the chain's
   * half of its comparison (`actionsAllStored` and the chain's count), done on another connection meanwhile; null, it is
   * done here. A table that fails the quick check (`rowsStored`) is searched on this connection
   * for its first bad row, which decides.
   */
  compare(upTo: number, actionsInChain: () => RowsStored | null = () => null): ProjectionMismatch | null {
    let found: ProjectionMismatch | null = null;
    for (const { table, key } of PROJECTION_TABLES) {
      if (table === 'agent_actions') continue;
      const columns = this.columns(table);
      if (this.same(table, rowsStored(this.db, table, columns, `${REPLAY}${table}`, []))) continue;
      found = this.firstBadRow(table, key, columns);
      if (found) break;
    }
    // agent_actions comes first in key order: its bad row is the one reported.
    return this.compareActions(upTo, actionsInChain()) ?? found;
  }

  private compareActions(upTo: number, chainHalf: RowsStored | null): ProjectionMismatch | null {
    const columns = this.columns('agent_actions');
    const half =
      chainHalf ?? rowsStored(this.db, 'agent_actions', columns, `(${AGENT_ACTIONS_FROM_CHAIN})`, [upTo]);
    if (this.same('agent_actions', half)) return null;
    this.db
      .prepare(
        `INSERT INTO ${REPLAY}agent_actions (agent_id, seq, type, ts, actor) ${AGENT_ACTIONS_FROM_CHAIN}`,
      )
      .run(upTo);
    return this.firstBadRow('agent_actions', ['agent_id', 'seq'], columns);
  }

  /** The columns of a projection table as this build creates it. */
  private columns(table: string): string[] {
    return (this.db.prepare(`PRAGMA temp.table_info(agov_replay_${table})`).all() as { name: string }[]).map(
      (c) => c.name,
    );
  }

  /**
   * The quick check: the stored table holds every replayed row (`rowsStored`) and no more rows.
   * The replayed rows are distinct (their keys are, in tables of this build). Only a table that
   * fails it is searched for its first bad row.
   */
  private same(table: string, replayed: RowsStored): boolean {
    return replayed.allStored && storedCount(this.db, table) === replayed.count;
  }

  /** The first row, in key order, that differs between the stored and the replayed `table`. */
  private firstBadRow(
    table: string,
    key: readonly string[],
    columns: readonly string[],
  ): ProjectionMismatch | null {
    // BINARY throughout: the stored table's declared collation (NOCASE, RTRIM) must not make rows equal.
    const on = key.map((k) => `s.${k} COLLATE BINARY = r.${k}`).join(' AND ');
    const differs = [
      `s.${key[0]} IS NULL`,
      `r.${key[0]} IS NULL`,
      ...columns.map((c) => `s.${c} COLLATE BINARY IS NOT r.${c}`),
    ].join(' OR ');
    const bad = this.db
      .prepare(
        `SELECT ${key.map((k) => `coalesce(s.${k}, r.${k}) AS ${k}`).join(', ')},
           s.${key[0]} IS NOT NULL AS stored, r.${key[0]} IS NOT NULL AS replayed
         FROM main.${table} AS s FULL JOIN ${REPLAY}${table} AS r ON ${on}
         WHERE ${differs}
         ORDER BY ${key.map((k) => `coalesce(s.${k}, r.${k}) COLLATE BINARY`).join(', ')} LIMIT 1`,
      )
      .get() as Record<string, string | number> | undefined;
    if (!bad) return null;
    const where = key.map((k) => `${k} COLLATE BINARY = ?`).join(' AND ');
    const values = key.map((k) => bad[k]);
    const read = (from: string) =>
      bad[from === REPLAY ? 'replayed' : 'stored']
        ? (this.db.prepare(`SELECT * FROM ${from}${table} WHERE ${where}`).get(...values) as Row)
        : null;
    return describeMismatch(table, key, columns, read('main.'), read(REPLAY));
  }

  /** Drops the replayed tables. */
  detach(): void {
    for (const { table } of PROJECTION_TABLES) this.db.exec(`DROP TABLE IF EXISTS ${REPLAY}${table}`);
  }
}

type Row = Record<string, unknown>;
