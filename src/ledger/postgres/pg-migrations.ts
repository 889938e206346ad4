import type pg from 'pg';
import { UserError } from '../../platform/errors.js';
import { GENESIS_HASH } from '../entry-hash.js';
import type { Migration } from '../migrations.js';
import { PG_SERVICE_MIGRATIONS } from './pg-service-migrations.js';

/**
 * The PostgreSQL ledger's schema, versioned like the SQLite one and recorded in
 * `schema_migrations`. Never edit a released migration: add the next one. The chain has the same
 * columns as SQLite's, stored as the same text, so one hash covers both engines.
 */
export const PG_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'chain with its head row, outbox with leases, inbox, follower positions',
    sql: `
      CREATE TABLE ledger_entries (
        seq       bigint PRIMARY KEY,
        ts        text NOT NULL,
        type      text NOT NULL,
        agent_id  text,
        actor     text NOT NULL,
        payload   text NOT NULL,
        prev_hash text NOT NULL,
        hash      text NOT NULL
      );

      -- One row: the chain's head. Every append takes it FOR UPDATE first, so appends from every
      -- connection and every replica are serialised into one chain; the insert trigger advances it.
      CREATE TABLE ledger_head (
        id   integer PRIMARY KEY CHECK (id = 1),
        seq  bigint NOT NULL,
        hash text NOT NULL
      );
      INSERT INTO ledger_head (id, seq, hash) VALUES (1, 0, '${GENESIS_HASH}');

      -- The chain is append-only, enforced by the database, not only by the code.
      CREATE FUNCTION ledger_entries_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'ledger_entries is append-only: %s are refused', lower(TG_OP);
      END $$;
      CREATE TRIGGER ledger_entries_no_update BEFORE UPDATE ON ledger_entries
        FOR EACH ROW EXECUTE FUNCTION ledger_entries_refuse_change();
      CREATE TRIGGER ledger_entries_no_delete BEFORE DELETE ON ledger_entries
        FOR EACH ROW EXECUTE FUNCTION ledger_entries_refuse_change();
      CREATE TRIGGER ledger_entries_no_truncate BEFORE TRUNCATE ON ledger_entries
        FOR EACH STATEMENT EXECUTE FUNCTION ledger_entries_refuse_change();

      CREATE FUNCTION ledger_entries_extend_head() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        head ledger_head%ROWTYPE;
      BEGIN
        SELECT * INTO head FROM ledger_head WHERE id = 1 FOR UPDATE;
        IF NEW.seq IS DISTINCT FROM head.seq + 1 OR NEW.prev_hash IS DISTINCT FROM head.hash THEN
          RAISE EXCEPTION 'ledger_entries: an insert must extend the chain head (head %, insert %)', head.seq, NEW.seq;
        END IF;
        UPDATE ledger_head SET seq = NEW.seq, hash = NEW.hash WHERE id = 1;
        RETURN NEW;
      END $$;
      CREATE TRIGGER ledger_entries_chained BEFORE INSERT ON ledger_entries
        FOR EACH ROW EXECUTE FUNCTION ledger_entries_extend_head();

      -- Calls to GitHub, Slack and Vault, written in the transaction of the entry that caused them.
      -- A claimer holds a message until lease_until; after it another may take the message over.
      CREATE TABLE outbox (
        id              bigserial PRIMARY KEY,
        seq             bigint NOT NULL,
        target          text NOT NULL CHECK (target IN ('github', 'slack', 'vault')),
        kind            text NOT NULL,
        idempotency_key text NOT NULL UNIQUE,
        payload         text NOT NULL,
        ordering_key    text NOT NULL,
        status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
        attempts        integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL,
        last_error      text,
        created_at      timestamptz NOT NULL,
        delivered_at    timestamptz,
        claimed_by      text,
        lease_until     timestamptz
      );
      -- Claims walk the pending messages of a target oldest first, and look for an older one per key.
      CREATE INDEX outbox_due ON outbox (target, id) WHERE status = 'pending';
      CREATE INDEX outbox_heads ON outbox (target, ordering_key, id) WHERE status = 'pending';
      CREATE INDEX outbox_entry ON outbox (seq);

      -- Webhook deliveries, stored with their ledger entry before the sender gets its 2xx. The
      -- primary key is the de-duplication: a redelivery to any replica is recorded once.
      CREATE TABLE inbox (
        delivery_id     text PRIMARY KEY,
        source          text NOT NULL,
        event           text NOT NULL,
        payload         text NOT NULL,
        seq             bigint NOT NULL,
        status          text NOT NULL DEFAULT 'pending',
        attempts        integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL,
        last_error      text,
        received_at     timestamptz NOT NULL,
        processed_at    timestamptz
      );
      CREATE INDEX inbox_pending ON inbox (status, next_attempt_at);

      CREATE TABLE follower_positions (
        name text PRIMARY KEY,
        seq  bigint NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: 'projections: agent_actions, agent_metrics, violations, promotions, decisions, approvals',
    sql: `
      -- The query tables, written in the transaction of each entry by the projectors SQLite's ledger
      -- runs (src/ledger/projectors.ts), with SQLite's types (REAL as double precision), so the rows
      -- read back the same on both engines. Verify rebuilds them from the chain and compares.
      CREATE TABLE agent_actions (
        agent_id text NOT NULL,
        seq      bigint NOT NULL,
        type     text NOT NULL,
        ts       text NOT NULL,
        actor    text NOT NULL,
        PRIMARY KEY (agent_id, seq)
      );

      CREATE TABLE agent_metrics (
        agent_id           text PRIMARY KEY,
        tier               text NOT NULL,
        status             text NOT NULL,
        registered_at      text NOT NULL,
        tier_since         text NOT NULL,
        merged_prs_at_tier integer NOT NULL DEFAULT 0,
        merged_prs_total   integer NOT NULL DEFAULT 0,
        violations_total   integer NOT NULL DEFAULT 0,
        last_serious_violation_at text,
        token_hash         text
      );

      CREATE TABLE violations (
        seq           bigint PRIMARY KEY,
        agent_id      text NOT NULL,
        type          text NOT NULL,
        severity      text NOT NULL,
        consequence   text NOT NULL,
        budget_charge double precision NOT NULL,
        ts            text NOT NULL,
        source        text NOT NULL,
        details       text NOT NULL
      );
      CREATE INDEX violations_agent ON violations (agent_id, ts);

      CREATE TABLE promotions (
        seq       bigint PRIMARY KEY,
        agent_id  text NOT NULL,
        kind      text NOT NULL,
        step      text NOT NULL,
        from_tier text,
        to_tier   text,
        actor     text NOT NULL,
        ts        text NOT NULL,
        reason    text NOT NULL
      );
      CREATE INDEX promotions_agent ON promotions (agent_id, seq);

      CREATE TABLE decisions (
        seq        bigint PRIMARY KEY,
        repository text NOT NULL,
        number     integer NOT NULL,
        head_sha   text NOT NULL,
        agent_id   text,
        outcome    text NOT NULL,
        ts         text NOT NULL
      );
      CREATE INDEX decisions_pr ON decisions (repository, number, seq);

      CREATE TABLE approvals (
        seq            bigint PRIMARY KEY,
        repository     text NOT NULL,
        number         integer NOT NULL,
        approver       text NOT NULL,
        verdict        text NOT NULL,
        gate           text,
        head_sha       text NOT NULL,
        diff_hash      text NOT NULL,
        policy_version text NOT NULL,
        source         text NOT NULL,
        ts             text NOT NULL
      );
      CREATE INDEX approvals_pr ON approvals (repository, number, seq);
    `,
  },
  {
    version: 3,
    name: 'checkpoints',
    sql: `
      -- Signed snapshots of the derived state at a head, as SQLite stores them: the state as the
      -- text its signed hash covers (never jsonb, which would not give the same text back).
      CREATE TABLE checkpoints (
        id          text PRIMARY KEY,
        created_at  text NOT NULL,
        head_seq    bigint NOT NULL,
        head_hash   text NOT NULL,
        state       text NOT NULL,
        state_hash  text NOT NULL,
        signature   text NOT NULL,
        public_key  text NOT NULL
      );
      CREATE INDEX checkpoints_head ON checkpoints (head_seq, created_at);
    `,
  },
  {
    version: 4,
    name: 'decisions by head commit',
    sql: `
      -- As SQLite's migration 11: the other PRs at a head commit, read with every decision.
      CREATE INDEX decisions_head ON decisions (repository, head_sha, seq);
    `,
  },
  ...PG_SERVICE_MIGRATIONS,
];

const LATEST = PG_MIGRATIONS.at(-1)?.version ?? 0;

function tooNew(where: string, current: number): UserError {
  return new UserError(
    'ledger_too_new',
    `the ledger at ${where} has schema version ${current}, newer than this build understands (${LATEST}); upgrade agent-governance`,
  );
}

/**
 * For a connection that must not write (`serve --read-only`): the schema is this build's, as
 * `migratePostgres` would leave it, or the ledger is refused; nothing is created or migrated.
 */
export async function requireCurrentSchema(client: pg.ClientBase, where: string): Promise<void> {
  const { rows } = await client.query<{ v: number | null }>(
    'SELECT max(version) AS v FROM schema_migrations',
  );
  const current = rows[0]?.v ?? 0;
  if (current > LATEST) throw tooNew(where, current);
  if (current < LATEST) {
    throw new UserError(
      'ledger_not_migrated',
      `the ledger at ${where} has schema version ${current}, older than this build's (${LATEST}), and --read-only migrates nothing; start \`agov serve\` on it once without --read-only, or use the build that wrote it`,
    );
  }
}

/** A number every replica uses for the migration lock, so two starting at once migrate once. */
const MIGRATION_LOCK = 7_141_301;

/** Brings the schema up to date in one transaction, under an advisory lock. */
export async function migratePostgres(client: pg.ClientBase, where: string): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
         version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const { rows } = await client.query<{ v: number | null }>(
      'SELECT max(version) AS v FROM schema_migrations',
    );
    const current = rows[0]?.v ?? 0;
    if (current > LATEST) throw tooNew(where, current);
    for (const migration of PG_MIGRATIONS.filter((m) => m.version > current)) {
      await client.query(migration.sql);
      await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
        migration.version,
        migration.name,
      ]);
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}
