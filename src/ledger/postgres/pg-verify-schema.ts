import type pg from 'pg';
import { PROJECTION_TABLES } from '../projections.js';
import type { SchemaProblem } from '../verify-schema.js';
import { PG_MIGRATIONS } from './pg-migrations.js';
import { pgTableDdl } from './pg-projection-schema.js';

/** The tables verify reads whose shape it checks: the chain and the projections. */
const CHECKED_TABLES: readonly string[] = ['ledger_entries', ...PROJECTION_TABLES.map((t) => t.table)];

/** Where the shapes this build creates are put (temporary tables, dropped with the transaction). */
const EXPECTED = 'pg_temp.agov_expect_';

/**
 * Pins verify's session, in its transaction, to the built-in operators and functions: the schema
 * that holds the ledger (where the service finds it) comes after pg_catalog, so an operator or
 * function someone defined there, or put first with ALTER DATABASE … SET search_path, is never
 * chosen over the built-in one (the schema is public when there is no ledger_entries to find).
 */
export async function pinSearchPath(client: pg.ClientBase): Promise<void> {
  const { rows } = await client.query<{ schema: string | null }>(
    `SELECT n.nspname AS schema FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     WHERE c.oid = pg_catalog.to_regclass('ledger_entries')`,
  );
  const schema = rows[0]?.schema ?? 'public';
  await client.query(`SET LOCAL search_path = pg_catalog, ${client.escapeIdentifier(schema)}, pg_temp`);
}

interface Column {
  name: string;
  type: string;
  collation: string | null;
}

async function columnsOf(client: pg.ClientBase, table: string): Promise<Column[] | null> {
  const { rows } = await client.query<Column & { kind: string }>(
    `SELECT c.relkind AS kind, a.attname AS name, pg_catalog.format_type(a.atttypid, a.atttypmod) AS type,
            co.collname AS collation
     FROM pg_catalog.pg_class c
     LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
     LEFT JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation
     WHERE c.oid = pg_catalog.to_regclass($1) ORDER BY a.attnum`,
    [table],
  );
  if (rows.length === 0) return null;
  if (rows[0]!.kind !== 'r') throw new NotATable(rows[0]!.kind);
  return rows.map(({ name, type, collation }) => ({ name, type, collation }));
}

class NotATable extends Error {}

const KINDS: Record<string, string> = {
  v: 'view',
  m: 'materialized view',
  f: 'foreign table',
  p: 'partitioned table',
};

/**
 * The first table verify reads that is not what this build's migrations create: missing, not an
 * ordinary table (a view can answer verify's snapshot otherwise than the service), or with other
 * columns, column types or collations (a type of someone's own brings its own `=`). Call after
 * `pinSearchPath`, in the transaction.
 */
export async function pgSchemaProblem(client: pg.ClientBase): Promise<SchemaProblem | null> {
  // Before verify runs any DDL of its own, which an event trigger would hook into.
  const eventTrigger = await foreignEventTrigger(client);
  if (eventTrigger) return eventTrigger;
  await client.query(CHECKED_TABLES.map((t) => pgTableDdl(EXPECTED, t)).join('\n'));
  for (const table of CHECKED_TABLES) {
    let stored: Column[] | null;
    try {
      stored = await columnsOf(client, table);
    } catch (error) {
      if (!(error instanceof NotATable)) throw error;
      const kind = KINDS[error.message] ?? `relation of kind ${error.message}`;
      return { object: table, reason: `${table} is a ${kind}, not the table this build creates` };
    }
    if (!stored) return { object: table, reason: `the table ${table} is missing` };
    const expected = (await columnsOf(client, `${EXPECTED}${table}`))!;
    const shape = (cs: Column[]) => cs.map((c) => `${c.name} ${c.type} ${c.collation ?? ''}`).join(', ');
    if (shape(stored) !== shape(expected)) {
      return {
        object: table,
        reason: `the table ${table} does not have the columns, types and collations this build creates (${shape(stored)}; this build: ${shape(expected)})`,
      };
    }
  }
  return foreignTriggerOrRule(client);
}

/** `table.trigger` for every trigger this build's migrations create, with the function it runs. */
const OWN_TRIGGERS = new Map(
  PG_MIGRATIONS.flatMap(({ sql }) =>
    [
      ...sql.matchAll(
        /CREATE TRIGGER (\w+)\s+(BEFORE|AFTER)\s+([A-Z ]+?)\s+ON (\w+)\s+FOR EACH (ROW|STATEMENT)\s+EXECUTE FUNCTION (\w+)\(/g,
      ),
    ].map(
      ([, name, timing, events, table, level, fn]) =>
        [`${table}.${name}`, `${fn}:${triggerType(timing!, events!, level!)}`] as const,
    ),
  ),
);

/**
 * `pg_trigger.tgtype` of a trigger created `timing events … FOR EACH level`: the same function on
 * another event (an UPDATE guard moved to TRUNCATE) guards nothing that matters.
 */
function triggerType(timing: string, events: string, level: string): number {
  const bits: Record<string, number> = { INSERT: 4, DELETE: 8, UPDATE: 16, TRUNCATE: 32 };
  const on = events.split(/\s+OR\s+/).reduce((sum, event) => sum | (bits[event.trim()] ?? 0), 0);
  return (level === 'ROW' ? 1 : 0) | (timing === 'BEFORE' ? 2 : 0) | on;
}

/** The body (between `$$`) of every function this build's migrations create, by name. */
const OWN_FUNCTIONS = new Map(
  PG_MIGRATIONS.flatMap(({ sql }) =>
    [...sql.matchAll(/CREATE FUNCTION (\w+)\(\)[^$]*\$\$([\s\S]*?)\$\$/g)].map(
      ([, name, body]) => [name!, body!] as const,
    ),
  ),
);

/**
 * The first trigger or rule, on any table of the ledger's schema, that this build's migrations do
 * not create: one on a table verify does not compare (the outbox, the inbox) still changes what the
 * service does next, such as rewriting every check run it sends. The migrations create no rules.
 */
async function foreignTriggerOrRule(client: pg.ClientBase): Promise<SchemaProblem | null> {
  const { rows } = await client.query<{ kind: string; name: string; table: string; fn: string | null }>(
    `WITH ledger AS (SELECT relnamespace FROM pg_catalog.pg_class WHERE oid = pg_catalog.to_regclass('ledger_entries'))
     SELECT kind, name, "table", fn FROM (
       SELECT 'trigger' AS kind, t.tgname::text AS name, c.relname::text AS "table",
              -- A function of the same name in another schema is another function.
              -- Narrowed (a WHEN condition, a column list) it may never fire: not the one created.
              CASE WHEN p.pronamespace = (SELECT relnamespace FROM ledger)
                   THEN p.proname::text || ':' || t.tgtype::int
                        || CASE WHEN t.tgqual IS NOT NULL OR t.tgattr::text <> '' THEN ':narrowed' ELSE '' END
              END AS fn
         FROM pg_catalog.pg_trigger t JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
         JOIN pg_catalog.pg_proc p ON p.oid = t.tgfoid
        WHERE NOT t.tgisinternal AND c.relnamespace = (SELECT relnamespace FROM ledger)
       UNION ALL
       SELECT 'rule', r.rulename::text, c.relname::text, NULL
         FROM pg_catalog.pg_rewrite r JOIN pg_catalog.pg_class c ON c.oid = r.ev_class
        WHERE r.rulename <> '_RETURN' AND c.relnamespace = (SELECT relnamespace FROM ledger)
     ) found ORDER BY "table" COLLATE "C", name COLLATE "C"`,
  );
  const foreign = rows.find((r) => r.kind === 'rule' || OWN_TRIGGERS.get(`${r.table}.${r.name}`) !== r.fn);
  if (foreign)
    return {
      object: foreign.name,
      reason: `the ${foreign.kind} ${foreign.name} on ${foreign.table} is not one this build creates: it can change what the service stores or sends`,
    };
  return changedTriggerFunction(client);
}

/**
 * An event trigger (database-wide, run on DDL) can rewrite the tables verify creates to rebuild the
 * projections into; the migrations create none.
 */
async function foreignEventTrigger(client: pg.ClientBase): Promise<SchemaProblem | null> {
  const { rows } = await client.query<{ name: string }>(
    'SELECT evtname::text AS name FROM pg_catalog.pg_event_trigger ORDER BY evtname COLLATE "C" LIMIT 1',
  );
  const found = rows[0];
  return found
    ? {
        object: found.name,
        reason: `the event trigger ${found.name} is not one this build creates: it can change the tables verify rebuilds the projections into`,
      }
    : null;
}

/** A trigger function of the migrations whose body was replaced (the append-only guard made to let a DELETE pass). */
async function changedTriggerFunction(client: pg.ClientBase): Promise<SchemaProblem | null> {
  const { rows } = await client.query<{ name: string; body: string }>(
    // Its body, and nothing said of how it runs: no SECURITY DEFINER, no settings of its own
    // (a search_path of someone else's would change what every name in the body means).
    `SELECT p.proname::text AS name,
            CASE WHEN p.prosecdef OR p.proconfig IS NOT NULL THEN NULL ELSE p.prosrc END AS body
       FROM pg_catalog.pg_proc p
      WHERE p.pronamespace = (SELECT relnamespace FROM pg_catalog.pg_class WHERE oid = pg_catalog.to_regclass('ledger_entries'))
        AND p.proname = ANY($1::text[])`,
    [[...OWN_FUNCTIONS.keys()]],
  );
  const stored = new Map(rows.map((r) => [r.name, r.body]));
  for (const [name, body] of OWN_FUNCTIONS)
    if (stored.get(name) !== body)
      return {
        object: name,
        reason: `the function ${name} is not the one this build creates (missing, its body replaced, or made to run otherwise): the ledger's own guards run it`,
      };
  return null;
}
