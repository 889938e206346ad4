/**
 * The tamper table for `agov ledger verify` on PostgreSQL: what a superuser does to a copy of the
 * seeded history (test/helpers/ledger-history.ts: a checkpoint pinning the key at entry 9, 11
 * entries), and what verify must name.
 */
import { dirname, join } from 'node:path';
import { hashOf, hostKey, otherKey, rehash } from './attacker.js';
import { behindTriggers, pgRows, psql, resignPgCheckpoint, writePgChain } from './pg-attacker.js';

/** Rewrites the whole chain around a key of the attacker's: pin, head row, checkpoint and all. */
export async function swapPinnedKey(url: string) {
  const key = otherKey();
  const chain = (await pgRows(url)).map((r) =>
    r.type === 'ledger.key_pinned'
      ? { ...r, payload: JSON.stringify({ ...JSON.parse(r.payload), publicKey: key.publicKey }) }
      : r,
  );
  const next = rehash(chain);
  await writePgChain(url, next);
  await resignPgCheckpoint(url, key, () => undefined, { seq: 9, hash: next[8]!.hash });
}

export interface Tamper {
  name: string;
  /** Tampers with the database at `url`, copied from the SQLite ledger `sqliteLedger`. */
  tamper: (url: string, sqliteLedger: string) => Promise<unknown>;
  args?: string[];
  /** The environment of verify, given the SQLite ledger the copy came from. */
  env?: (sqliteLedger: string) => Record<string, string>;
  expect: RegExp[];
}

/** A tamper made by one psql script, which verify must name as the first bad schema object, saying `reason`. */
function badSchemaObject(name: string, sql: string, object: string, reason: RegExp): Tamper {
  return {
    name,
    tamper: (u) => psql(u, sql),
    expect: [new RegExp(`^first bad schema object: ${object}$`, 'm'), reason],
  };
}

export const PG_TAMPERS: Tamper[] = [
  {
    name: 'edit: one byte of an entry, the triggers left off',
    tamper: (u) =>
      psql(
        u,
        "ALTER TABLE ledger_entries DISABLE TRIGGER USER; UPDATE ledger_entries SET payload = replace(payload, 'leaked', 'leakee') WHERE seq = 5",
      ),
    expect: [
      /^first bad sequence: 5$/m,
      /entry 5 was changed after it was written/,
      /^note: warning: the append-only triggers of ledger_entries are missing or disabled/m,
    ],
  },
  {
    name: 'delete: one entry',
    tamper: (u) => behindTriggers(u, 'DELETE FROM ledger_entries WHERE seq = 4'),
    expect: [/^first bad sequence: 4$/m, /entry 4 is missing/],
  },
  {
    name: 'reorder: two entries swapped, hashes and all',
    tamper: async (u) => {
      const r = await pgRows(u);
      await writePgChain(u, [r[0]!, { ...r[2]!, seq: 2 }, { ...r[1]!, seq: 3 }, ...r.slice(3)]);
    },
    expect: [/^first bad sequence: 2$/m, /does not link to entry 1/],
  },
  {
    // The pin (entry 9) is cut off too: the checkpoint is checked against the key given.
    name: 'truncate: the tail cut off before the checkpoint head, the head row moved back',
    tamper: async (u) => writePgChain(u, (await pgRows(u)).slice(0, 7)),
    args: ['--public-key', '{publicKeyFile}'],
    expect: [
      /^first bad sequence: 8$/m,
      /the ledger ends at 7 but checkpoint ckpt-.* recorded head 9: the tail was cut off/,
    ],
  },
  {
    name: 'truncate: the same, checked against this host’s signing key (LEDGER_SIGNING_KEY_PATH)',
    tamper: async (u) => writePgChain(u, (await pgRows(u)).slice(0, 7)),
    env: (sqliteLedger) => ({
      LEDGER_SIGNING_KEY_PATH: join(dirname(sqliteLedger), 'ledger-signing-key.pem'),
    }),
    expect: [/^first bad sequence: 8$/m, /the tail was cut off/, /checked against this host's signing key/],
  },
  {
    name: 'truncate: the same, and no key to check the checkpoint with',
    tamper: async (u) => writePgChain(u, (await pgRows(u)).slice(0, 7)),
    expect: [
      /^first bad checkpoint: ckpt-/m,
      /no public key to check the checkpoints against: pass --public-key FILE/,
    ],
  },
  {
    name: 'forge: an entry appended behind the trigger, the head row left as it was',
    tamper: async (u) => {
      const last = (await pgRows(u)).at(-1)!;
      const forged = { ...last, seq: 12, actor: 'mallory', prev_hash: last.hash };
      const r = { ...forged, hash: hashOf(forged) };
      await psql(u, 'ALTER TABLE ledger_entries DISABLE TRIGGER USER');
      await psql(u, 'INSERT INTO ledger_entries VALUES ($1, $2, $3, $4, $5, $6, $7, $8)', [
        ...[r.seq, r.ts, r.type, r.agent_id, r.actor, r.payload, r.prev_hash, r.hash],
      ]);
      await psql(u, 'ALTER TABLE ledger_entries ENABLE TRIGGER USER');
    },
    expect: [/^first bad sequence: 12$/m, /entry 12 was added past the recorded head 11/],
  },
  {
    name: 'unknown type: an entry of a type this build does not know, hashed and linked',
    tamper: async (u) => {
      const chain = await pgRows(u);
      await writePgChain(u, rehash(chain.map((r) => (r.seq === 10 ? { ...r, type: 'agent.shadow' } : r))));
    },
    expect: [/^first bad sequence: 10$/m, /entry 10 has an unknown type "agent\.shadow"/],
  },
  {
    name: 'projection: the revoked agent made active at T4 with a token of the attacker’s',
    tamper: (u) =>
      psql(
        u,
        `UPDATE agent_metrics SET status = 'active', tier = 'T4', token_hash = '${'e'.repeat(64)}' WHERE agent_id = 'infra-bot'`,
      ),
    expect: [/^first bad table: agent_metrics$/m, /^first bad key: agent_id=infra-bot$/m, /tier/],
  },
  {
    name: 'projection: a violation deleted',
    tamper: (u) => psql(u, 'DELETE FROM violations WHERE seq = 4'),
    expect: [/^first bad table: violations$/m, /^first bad key: seq=4$/m, /missing: the chain wrote it/],
  },
  {
    name: 'projection: a forged approval',
    tamper: (u) =>
      psql(
        u,
        "INSERT INTO approvals SELECT 100, repository, number, 'mallory', verdict, gate, head_sha, diff_hash, policy_version, source, ts FROM approvals WHERE seq = 7",
      ),
    expect: [/^first bad table: approvals$/m, /^first bad key: seq=100$/m, /not in the chain/],
  },
  {
    name: 'checkpoint: state edited, hash left as it was',
    tamper: (u) =>
      psql(u, `UPDATE checkpoints SET state = replace(state, '"status":"revoked"', '"status":"active"')`),
    expect: [
      /^first bad checkpoint: ckpt-\d{8}-\d{6}-[0-9a-f]{8}$/m,
      /state does not match its signed state hash/,
    ],
  },
  {
    name: 'checkpoint: state edited and signed again with the host’s own key',
    tamper: (u, sqliteLedger) =>
      resignPgCheckpoint(u, hostKey(sqliteLedger), (s) => {
        s.agents['infra-bot'].status = 'active';
        s.agents['infra-bot'].tier = 'T4';
        delete s.revocations['infra-bot'];
      }),
    expect: [/^first bad checkpoint: ckpt-/m, /state differs from the chain at agents\.infra-bot\.status/],
  },
  {
    name: 'checkpoint: signed again with another key',
    tamper: (u) => resignPgCheckpoint(u, otherKey()),
    expect: [
      /^first bad checkpoint: ckpt-/m,
      /is not signed by the key pinned at entry 9: it was altered or signed by someone else/,
    ],
  },
  {
    name: 'pinned key: edited in its entry',
    tamper: async (u) => {
      const key = otherKey();
      await behindTriggers(
        u,
        `UPDATE ledger_entries SET payload = jsonb_set(payload::jsonb, '{publicKey}', to_jsonb('${key.publicKey}'::text))::text WHERE seq = 9`,
      );
      await resignPgCheckpoint(u, key);
    },
    expect: [/^first bad sequence: 9$/m, /entry 9 was changed after it was written/],
  },
  {
    name: 'pinned key: the whole chain rewritten around another key, checked with --public-key',
    tamper: swapPinnedKey,
    args: ['--public-key', '{publicKeyFile}'],
    expect: [/^first bad sequence: 9$/m, /entry 9 pins a key other than the one in .*ledger-public-key\.pem/],
  },
  {
    name: 'pinned key: a second key pinned after the first',
    tamper: async (u) => {
      const key = otherKey();
      const chain = await pgRows(u);
      const pin = chain.find((r) => r.type === 'ledger.key_pinned')!;
      const second = { ...pin, seq: 12, payload: JSON.stringify({ publicKey: key.publicKey }) };
      await writePgChain(u, rehash([...chain, second]));
      await resignPgCheckpoint(u, key);
    },
    expect: [/^first bad sequence: 12$/m, /entry 12 pins a second signing key/],
  },
  {
    // Issue 12: an = of the attacker's, before pg_catalog on the database's search_path, that calls any two texts equal.
    name: 'operator: an = of someone else’s first on the search path, a deny turned into an allow',
    tamper: async (u) => {
      await psql(
        u,
        `CREATE FUNCTION public.same(text, text) RETURNS boolean AS 'SELECT true' LANGUAGE sql IMMUTABLE;
         CREATE OPERATOR public.= (LEFTARG = text, RIGHTARG = text, FUNCTION = public.same);
         ALTER DATABASE ${new URL(u).pathname.slice(1)} SET search_path = public, pg_catalog;`,
      );
      await psql(u, "UPDATE decisions SET outcome = 'allow' WHERE seq = 6");
    },
    expect: [/^first bad table: decisions$/m, /^first bad key: seq=6$/m],
  },
  badSchemaObject(
    'type: a projection column given a type of the attacker’s (which brings its own =)',
    `CREATE DOMAIN lenient AS text; ALTER TABLE decisions ALTER outcome TYPE lenient;
         UPDATE decisions SET outcome = 'allow' WHERE seq = 6`,
    'decisions',
    /does not have the columns, types and collations/,
  ),
  badSchemaObject(
    'view: the chain replaced by a view',
    `ALTER TABLE ledger_entries RENAME TO e2;
         CREATE VIEW ledger_entries AS SELECT * FROM e2;`,
    'ledger_entries',
    /ledger_entries is a view, not the table/,
  ),
  {
    name: 'rows: a key pinned at entry 0, the attacker’s',
    tamper: (u) =>
      behindTriggers(
        u,
        `INSERT INTO ledger_entries SELECT 0, ts, type, agent_id, actor,
           jsonb_set(payload::jsonb, '{publicKey}', to_jsonb('${otherKey().publicKey}'::text))::text, prev_hash, hash
         FROM ledger_entries WHERE type = 'ledger.key_pinned'`,
      ),
    expect: [/^first bad sequence: 0$/m, /entry 0 is outside the chain, which starts at entry 1/],
  },
  // Nothing verify compares is touched, but every check run sent from now on says success.
  badSchemaObject(
    'schema: a trigger of the attacker on the outbox',
    `CREATE FUNCTION fix() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN NEW.payload := replace(NEW.payload, '"failure"', '"success"'); RETURN NEW; END $$;
         CREATE TRIGGER outbox_fix BEFORE INSERT ON outbox FOR EACH ROW EXECUTE FUNCTION fix();`,
    'outbox_fix',
    /trigger outbox_fix on outbox is not one this build creates/,
  ),
  badSchemaObject(
    'schema: a rule of the attacker on the inbox',
    `CREATE RULE inbox_unrevoke AS ON INSERT TO inbox DO ALSO
           UPDATE agent_metrics SET status = 'active' WHERE status = 'revoked'`,
    'inbox_unrevoke',
    /rule inbox_unrevoke on inbox is not one this build creates/,
  ),
  // Superuser: every table verify creates to rebuild agent_metrics into gets the forged tier too.
  badSchemaObject(
    'schema: an event trigger that forges the tables verify rebuilds into',
    `CREATE FUNCTION forge() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.tier := 'T4'; RETURN NEW; END $$;
         CREATE FUNCTION attach() RETURNS event_trigger LANGUAGE plpgsql AS $$
         DECLARE r record;
         BEGIN
           FOR r IN SELECT * FROM pg_event_trigger_ddl_commands() WHERE object_identity LIKE '%agent_metrics%' LOOP
             EXECUTE format('CREATE TRIGGER forge BEFORE INSERT ON %s FOR EACH ROW EXECUTE FUNCTION forge()', r.object_identity);
           END LOOP;
         END $$;
         CREATE EVENT TRIGGER attach_forge ON ddl_command_end WHEN TAG IN ('CREATE TABLE') EXECUTE FUNCTION attach();
         UPDATE agent_metrics SET tier = 'T4'`,
    'attach_forge',
    /event trigger attach_forge is not one this build creates/,
  ),
  // The guard still fires, and lets every DELETE through.
  badSchemaObject(
    'schema: the append-only guard function replaced',
    `CREATE OR REPLACE FUNCTION ledger_entries_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN RETURN OLD; END $$`,
    'ledger_entries_refuse_change',
    /function ledger_entries_refuse_change is not the one this build creates/,
  ),
  badSchemaObject(
    'schema: an append-only trigger of the right name running another function',
    `CREATE FUNCTION let_through() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN OLD; END $$;
         DROP TRIGGER ledger_entries_no_delete ON ledger_entries;
         CREATE TRIGGER ledger_entries_no_delete BEFORE DELETE ON ledger_entries
           FOR EACH ROW EXECUTE FUNCTION let_through();`,
    'ledger_entries_no_delete',
    /trigger ledger_entries_no_delete on ledger_entries is not one this build creates/,
  ),
  badSchemaObject(
    'schema: an append-only trigger running a function of the same name from another schema',
    `CREATE SCHEMA evil;
         CREATE FUNCTION evil.ledger_entries_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN OLD; END $$;
         DROP TRIGGER ledger_entries_no_delete ON ledger_entries;
         CREATE TRIGGER ledger_entries_no_delete BEFORE DELETE ON ledger_entries
           FOR EACH ROW EXECUTE FUNCTION evil.ledger_entries_refuse_change();`,
    'ledger_entries_no_delete',
    /trigger ledger_entries_no_delete on ledger_entries is not one this build creates/,
  ),
  // The guard's body is untouched, but it runs as its owner with a search_path of the attacker's.
  badSchemaObject(
    'schema: the append-only guard function made SECURITY DEFINER with its own settings',
    `ALTER FUNCTION ledger_entries_refuse_change() SECURITY DEFINER SET search_path = evil, public`,
    'ledger_entries_refuse_change',
    /function ledger_entries_refuse_change is not the one this build creates/,
  ),
  // The right name and function, on another event: UPDATE is no longer refused.
  badSchemaObject(
    'schema: the no-update trigger moved to fire on TRUNCATE only',
    `DROP TRIGGER ledger_entries_no_update ON ledger_entries;
         CREATE TRIGGER ledger_entries_no_update BEFORE TRUNCATE ON ledger_entries
           FOR EACH STATEMENT EXECUTE FUNCTION ledger_entries_refuse_change();`,
    'ledger_entries_no_update',
    /trigger ledger_entries_no_update on ledger_entries is not one this build creates/,
  ),
  // The right name, function and event, narrowed until it never fires.
  badSchemaObject(
    'schema: the no-delete trigger given a WHEN that is never true, and the no-update one a column list',
    `DROP TRIGGER ledger_entries_no_delete ON ledger_entries;
         CREATE TRIGGER ledger_entries_no_delete BEFORE DELETE ON ledger_entries
           FOR EACH ROW WHEN (false) EXECUTE FUNCTION ledger_entries_refuse_change();
         DROP TRIGGER ledger_entries_no_update ON ledger_entries;
         CREATE TRIGGER ledger_entries_no_update BEFORE UPDATE OF actor ON ledger_entries
           FOR EACH ROW EXECUTE FUNCTION ledger_entries_refuse_change();`,
    'ledger_entries_no_delete',
    /trigger ledger_entries_no_delete on ledger_entries is not one this build creates/,
  ),
  {
    // For every session of the database, the service's and verify's too: no trigger fires.
    name: 'triggers: session_replication_role set to replica for the database, one entry edited',
    tamper: (u) =>
      psql(
        u,
        `DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET session_replication_role = replica', current_database()); END $$;
         SET session_replication_role = replica;
         UPDATE ledger_entries SET payload = replace(payload, 'leaked', 'leakee') WHERE seq = 5`,
      ),
    expect: [
      /^first bad sequence: 5$/m,
      /^note: warning: session_replication_role is replica for this database or role, so the append-only triggers of ledger_entries do not fire/m,
    ],
  },
  {
    // A replica trigger does not fire in an ordinary session: as good as disabled.
    name: 'triggers: set to fire on replicas only, one entry edited',
    tamper: (u) =>
      psql(
        u,
        `ALTER TABLE ledger_entries ENABLE REPLICA TRIGGER ledger_entries_no_update;
         UPDATE ledger_entries SET payload = replace(payload, 'leaked', 'leakee') WHERE seq = 5`,
      ),
    expect: [
      /^first bad sequence: 5$/m,
      /^note: warning: the append-only triggers of ledger_entries are missing or disabled/m,
    ],
  },
];
