import type { Migration } from '../migrations.js';

/**
 * The PostgreSQL migrations from version 5 on: the service's own state beside the chain (what the
 * running service reads and writes besides entries). Continues `PG_MIGRATIONS`; never edit a
 * released one: add the next.
 */
export const PG_SERVICE_MIGRATIONS: readonly Migration[] = [
  {
    version: 5,
    name: 'service state beside the chain: check run ids, session checkpoints, Slack requests and messages',
    sql: `
      -- The tables SQLite keeps beside the chain (its migrations 2-4), with the same columns, so the
      -- queries of src/ledger/queries read and write them on either engine. GitHub's ids are bigint.
      CREATE TABLE github_check_runs (
        repository   text NOT NULL,
        head_sha     text NOT NULL,
        name         text NOT NULL,
        check_run_id bigint NOT NULL,
        PRIMARY KEY (repository, head_sha, name)
      );

      CREATE TABLE session_checkpoints (
        seq        bigint PRIMARY KEY,
        agent_id   text NOT NULL,
        state      text NOT NULL,
        created_at text NOT NULL
      );
      CREATE INDEX session_checkpoints_agent ON session_checkpoints (agent_id, seq);

      CREATE TABLE slack_approvals (
        approval_key    text PRIMARY KEY,
        repository      text NOT NULL,
        number          integer NOT NULL,
        head_sha        text NOT NULL,
        installation_id bigint,
        agent_id        text NOT NULL,
        context         text NOT NULL,
        state           text NOT NULL DEFAULT 'pending',
        channel         text,
        ts              text,
        created_at      text NOT NULL
      );

      CREATE TABLE slack_messages (
        message_key text PRIMARY KEY,
        channel     text NOT NULL,
        ts          text NOT NULL
      );
    `,
  },
  {
    version: 6,
    name: 'signed requests seen: Slack request de-duplication, used sign-in states, ended sessions',
    sql: `
      -- SQLite's seen_requests (its migration 5). The primary key is the de-duplication: a request
      -- seen by two replicas at once is accepted by one. expires_at is in unix seconds.
      CREATE TABLE seen_requests (
        key        text PRIMARY KEY,
        expires_at bigint NOT NULL
      );
      CREATE INDEX seen_requests_expiry ON seen_requests (expires_at);
    `,
  },
  {
    version: 7,
    name: 'inbox deliveries claimed with a lease',
    sql: `
      -- A replica processing a stored delivery holds it until lease_until; after it, another
      -- replica takes it over (the one that held it died). Due deliveries are walked oldest first.
      ALTER TABLE inbox ADD COLUMN claimed_by text;
      ALTER TABLE inbox ADD COLUMN lease_until timestamptz;
      CREATE INDEX inbox_due ON inbox (source, seq) WHERE status = 'pending';
    `,
  },
  {
    version: 8,
    name: 'a heartbeat row, written by the readiness probe',
    sql: `
      -- SQLite's heartbeat (its migration 7): one row, rewritten and committed by each readiness
      -- probe, so a database that cannot take a commit shows as not ready.
      CREATE TABLE heartbeat (
        id integer PRIMARY KEY CHECK (id = 1),
        at text NOT NULL
      );
    `,
  },
  {
    version: 9,
    name: 'replicas announced in the ledger database',
    sql: `
      -- Every agov serve on this ledger, renewed while it runs: a replica whose locks, rate limits
      -- and revocation signals live in its own process (no REDIS_URL) must not run beside another.
      CREATE TABLE replicas (
        id           text PRIMARY KEY,
        host         text NOT NULL,
        pid          integer NOT NULL,
        started_at   text NOT NULL,
        shared_state boolean NOT NULL,
        seen_until   timestamptz NOT NULL
      );
    `,
  },
  {
    version: 10,
    name: 'the periodic-work lease in the ledger database',
    sql: `
      -- Which replica runs the shared periodic work, until when, and its fence (one more at every
      -- change of holder). Kept here, not in Redis: a Redis that restarts empty would hand the
      -- lease to a second replica while the first still holds it.
      CREATE TABLE leases (
        name       text PRIMARY KEY,
        holder     text NOT NULL,
        fence      bigint NOT NULL,
        expires_at timestamptz NOT NULL
      );
    `,
  },
  {
    version: 11,
    name: 'the ledger identity',
    sql: `
      -- What replicas compare to know they serve the same ledger: not the URL they reach it by
      -- (one database has many spellings, and a query string can point one URL at another server).
      CREATE TABLE ledger_identity (
        one boolean PRIMARY KEY DEFAULT true CHECK (one),
        id  text NOT NULL
      );
      INSERT INTO ledger_identity (id) VALUES (gen_random_uuid()::text);
    `,
  },
];
