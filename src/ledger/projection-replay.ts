import Database from 'better-sqlite3';
import type { LedgerEntry } from '../core/ledger-entries.js';
import { MIGRATIONS } from './migrations.js';
import type { LedgerDb } from './open-ledger-db.js';
import { describeMismatch, type ProjectionMismatch } from './projection-mismatch.js';
import { AGENT_ACTIONS_FROM_CHAIN, PROJECTED_TYPES, PROJECTION_TABLES, Projections } from './projections.js';

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
  if (ddlCache) return ddlCache;
  const scratch = new Database(':memory:');
  try {
    for (const m of MIGRATIONS) scratch.exec(m.sql);
    ddlCache = PROJECTION_TABLES.map(({ table }) => {
      const row = scratch
        .prepare<[string], { sql: string }>("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?")
        .get(table);
      if (!row) throw new Error(`the migrations create no table ${table}`);
      return row.sql.replace(/^CREATE TABLE (\w+)/, `CREATE TABLE ${REPLAY}$1`);
    });
    return ddlCache;
  } finally {
    scratch.close();
  }
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
   * entry `upTo` differ.
   */
  compare(upTo: number): ProjectionMismatch | null {
    for (const { table, key } of PROJECTION_TABLES) {
      const columns = (
        this.db.prepare(`PRAGMA temp.table_info(agov_replay_${table})`).all() as { name: string }[]
      ).map((c) => c.name);
      if (table === 'agent_actions') {
        if (this.same(table, columns, `(${AGENT_ACTIONS_FROM_CHAIN})`, [upTo])) continue;
        this.db
          .prepare(
            `INSERT INTO ${REPLAY}agent_actions (agent_id, seq, type, ts, actor) ${AGENT_ACTIONS_FROM_CHAIN}`,
          )
          .run(upTo);
      } else if (this.same(table, columns, `${REPLAY}${table}`, [])) continue;
      const on = key.map((k) => `s.${k} = r.${k}`).join(' AND ');
      const differs = [
        `s.${key[0]} IS NULL`,
        `r.${key[0]} IS NULL`,
        ...columns.map((c) => `s.${c} IS NOT r.${c}`),
      ].join(' OR ');
      const bad = this.db
        .prepare(
          `SELECT ${key.map((k) => `coalesce(s.${k}, r.${k}) AS ${k}`).join(', ')},
             s.${key[0]} IS NOT NULL AS stored, r.${key[0]} IS NOT NULL AS replayed
           FROM main.${table} AS s FULL JOIN ${REPLAY}${table} AS r ON ${on}
           WHERE ${differs}
           ORDER BY ${key.map((k) => `coalesce(s.${k}, r.${k})`).join(', ')} LIMIT 1`,
        )
        .get() as Record<string, string | number> | undefined;
      if (!bad) continue;
      const where = key.map((k) => `${k} = ?`).join(' AND ');
      const values = key.map((k) => bad[k]);
      const read = (from: string) =>
        bad[from === REPLAY ? 'replayed' : 'stored']
          ? (this.db.prepare(`SELECT * FROM ${from}${table} WHERE ${where}`).get(...values) as Row)
          : null;
      return describeMismatch(table, key, columns, read('main.'), read(REPLAY));
    }
    return null;
  }

  /**
   * The quick check: as many rows stored as replayed, and no replayed row (every column) missing
   * from the stored table. The replayed rows are distinct (their keys are, in tables of this
   * build), so a stored table holding all of them and no more rows is equal to them. The other
   * direction is not enough: the stored table's schema is the attacker's, and a table rebuilt
   * without its key could hold one row twice in place of another. Only a table that fails it is
   * searched for its first bad row.
   */
  private same(table: string, columns: readonly string[], replayed: string, params: unknown[]): boolean {
    const count = (from: string, p: unknown[]) =>
      this.db
        .prepare(`SELECT count(*) FROM ${from}`)
        .pluck()
        .get(...p) as number;
    // The rows themselves, never an index a count could be read from instead.
    if (count(`main.${table} NOT INDEXED`, []) !== count(replayed, params)) return false;
    // `seq` first where there is one: rows then compare on a number before any text.
    const list = [...columns].sort((a, b) => Number(b === 'seq') - Number(a === 'seq')).join(', ');
    const extra = this.db
      .prepare(
        `SELECT 1 FROM (SELECT ${list} FROM ${replayed} EXCEPT SELECT ${list} FROM main.${table} NOT INDEXED) LIMIT 1`,
      )
      .get(...params);
    return extra === undefined;
  }

  /** Drops the replayed tables. */
  detach(): void {
    for (const { table } of PROJECTION_TABLES) this.db.exec(`DROP TABLE IF EXISTS ${REPLAY}${table}`);
  }
}

type Row = Record<string, unknown>;
