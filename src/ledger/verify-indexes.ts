import { readMigratedSchema } from './migrated-schema.js';
import type { LedgerDb } from './open-ledger-db.js';
import type { SchemaProblem } from './verify-schema.js';

/** The chain's table: its indexes are checked beside the chain check (`integrityProblem`). */
const CHAIN_TABLE = 'ledger_entries';

let tablesCache: string[] | null = null;

/** The tables this build's migrations create but the chain's: the tables the service reads. */
function serviceTables(): string[] {
  tablesCache ??= readMigratedSchema(
    (scratch) =>
      scratch
        .prepare(
          "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%' ORDER BY name",
        )
        .pluck()
        .all() as string[],
  ).filter((t) => t !== CHAIN_TABLE);
  return tablesCache;
}

/**
 * The first problem `PRAGMA integrity_check` finds in `table` and its indexes, named by the
 * index it names (an index whose entries are not its table's rows: another expression's pages
 * swapped in, a partial index hiding rows), else by the table. The service reads through these
 * indexes (`WHERE agent_id = ?`), verify compares the rows themselves: both must be the same.
 */
export function integrityProblem(db: LedgerDb, table: string): SchemaProblem | null {
  const said = db.prepare(`PRAGMA main.integrity_check("${table}")`).pluck().all() as string[];
  return integrityFinding(table, said);
}

/** What `PRAGMA integrity_check(table)` said (`said`), as the object to name and why; null if ok. */
export function integrityFinding(table: string, said: readonly string[]): SchemaProblem | null {
  if (said.length === 1 && said[0] === 'ok') return null;
  const object = /\bindex (\S+)/.exec(said[0] ?? '')?.[1] ?? table;
  return {
    object,
    reason: `the ${object === table ? 'table' : 'index'} ${object} on ${table} does not hold what its table holds (integrity_check: ${said.slice(0, 3).join('; ')}): someone edited the file under SQLite, and the service reads through it`,
  };
}

/**
 * The first table the service reads (all but the chain's) whose indexes disagree with its rows,
 * or whose pages are damaged. Cheap: these tables are small but for agent_actions (~25 ms per
 * 200,000 rows). Tables missing from the file are skipped (`schemaProblem` names a missing
 * verified table; the others are the service's to create).
 */
export function serviceIndexProblem(db: LedgerDb): SchemaProblem | null {
  const present = new Set(
    db.prepare("SELECT name FROM main.sqlite_master WHERE type = 'table'").pluck().all() as string[],
  );
  for (const table of serviceTables()) {
    if (!present.has(table)) continue;
    const problem = integrityProblem(db, table);
    if (problem) return problem;
  }
  return null;
}
