/**
 * Versioned schema migrations, applied in order and recorded in `PRAGMA user_version`. Never edit
 * a released migration: add the next one.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'chain, projections, outbox, checkpoints',
    sql: `
      CREATE TABLE ledger_entries (
        seq       INTEGER PRIMARY KEY,
        ts        TEXT NOT NULL,
        type      TEXT NOT NULL,
        agent_id  TEXT,
        actor     TEXT NOT NULL,
        payload   TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash      TEXT NOT NULL
      );
      -- No secondary indexes on the chain: every page an append dirties costs write time. Queries
      -- by agent go through agent_actions; queries by type are rare and scan.

      -- The chain is append-only, enforced by the database, not only by the code.
      CREATE TRIGGER ledger_entries_no_update BEFORE UPDATE ON ledger_entries
        BEGIN SELECT RAISE(ABORT, 'ledger_entries is append-only: updates are refused'); END;
      CREATE TRIGGER ledger_entries_no_delete BEFORE DELETE ON ledger_entries
        BEGIN SELECT RAISE(ABORT, 'ledger_entries is append-only: deletes are refused'); END;
      CREATE TRIGGER ledger_entries_chained BEFORE INSERT ON ledger_entries
        WHEN NEW.seq IS NOT (SELECT COALESCE(MAX(seq), 0) + 1 FROM ledger_entries)
          OR NEW.prev_hash IS NOT COALESCE(
               (SELECT hash FROM ledger_entries ORDER BY seq DESC LIMIT 1),
               '0000000000000000000000000000000000000000000000000000000000000000')
        BEGIN SELECT RAISE(ABORT, 'ledger_entries: an insert must extend the chain head'); END;

      -- Projections carry the chain's seq without a foreign key: they are written by the same
      -- transaction as their entry and can be rebuilt from the chain; a key check per row is cost only.
      CREATE TABLE agent_actions (
        agent_id TEXT NOT NULL,
        seq      INTEGER NOT NULL,
        type     TEXT NOT NULL,
        ts       TEXT NOT NULL,
        actor    TEXT NOT NULL,
        PRIMARY KEY (agent_id, seq)
      ) WITHOUT ROWID;

      CREATE TABLE agent_metrics (
        agent_id           TEXT PRIMARY KEY,
        tier               TEXT NOT NULL,
        status             TEXT NOT NULL,
        registered_at      TEXT NOT NULL,
        tier_since         TEXT NOT NULL,
        merged_prs_at_tier INTEGER NOT NULL DEFAULT 0,
        merged_prs_total   INTEGER NOT NULL DEFAULT 0,
        violations_total   INTEGER NOT NULL DEFAULT 0,
        last_serious_violation_at TEXT,
        -- sha256 of the agent's API token: the API authenticates from the ledger, not the state store.
        token_hash         TEXT
      );

      CREATE TABLE violations (
        seq         INTEGER PRIMARY KEY,
        agent_id    TEXT NOT NULL,
        type        TEXT NOT NULL,
        severity    TEXT NOT NULL,
        consequence TEXT NOT NULL,
        budget_charge REAL NOT NULL,
        ts          TEXT NOT NULL,
        source      TEXT NOT NULL,
        details     TEXT NOT NULL
      );
      CREATE INDEX violations_agent ON violations (agent_id, ts);

      CREATE TABLE promotions (
        seq       INTEGER PRIMARY KEY,
        agent_id  TEXT NOT NULL,
        kind      TEXT NOT NULL,
        step      TEXT NOT NULL,
        from_tier TEXT,
        to_tier   TEXT,
        actor     TEXT NOT NULL,
        ts        TEXT NOT NULL,
        reason    TEXT NOT NULL
      );
      CREATE INDEX promotions_agent ON promotions (agent_id, seq);

      -- Calls to GitHub, Slack and Vault, written in the transaction of the entry that caused them.
      CREATE TABLE outbox (
        id              INTEGER PRIMARY KEY,
        seq             INTEGER NOT NULL,
        target          TEXT NOT NULL,
        kind            TEXT NOT NULL,
        idempotency_key TEXT NOT NULL UNIQUE,
        payload         TEXT NOT NULL,
        -- Messages with the same key are delivered strictly in order (one check run, one channel).
        ordering_key    TEXT NOT NULL,
        status          TEXT NOT NULL DEFAULT 'pending',
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT NOT NULL,
        last_error      TEXT,
        created_at      TEXT NOT NULL,
        delivered_at    TEXT
      );
      CREATE INDEX outbox_pending ON outbox (status, target, next_attempt_at, id);
      CREATE INDEX outbox_heads ON outbox (target, status, ordering_key, id);

      CREATE TABLE checkpoints (
        id          TEXT PRIMARY KEY,
        created_at  TEXT NOT NULL,
        head_seq    INTEGER NOT NULL,
        head_hash   TEXT NOT NULL,
        state       TEXT NOT NULL,
        state_hash  TEXT NOT NULL,
        signature   TEXT NOT NULL,
        public_key  TEXT NOT NULL
      );
      CREATE INDEX checkpoints_created ON checkpoints (created_at, id);
    `,
  },
  {
    version: 2,
    name: 'webhook inbox, check runs, decisions and approvals',
    sql: `
      -- Webhook deliveries, stored (with their ledger entry) before the 2xx goes back.
      CREATE TABLE inbox (
        delivery_id     TEXT PRIMARY KEY,
        source          TEXT NOT NULL,
        event           TEXT NOT NULL,
        payload         TEXT NOT NULL,
        seq             INTEGER NOT NULL,
        status          TEXT NOT NULL DEFAULT 'pending',
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT NOT NULL,
        last_error      TEXT,
        received_at     TEXT NOT NULL,
        processed_at    TEXT
      );
      CREATE INDEX inbox_pending ON inbox (status, next_attempt_at);

      CREATE TABLE github_check_runs (
        repository   TEXT NOT NULL,
        head_sha     TEXT NOT NULL,
        name         TEXT NOT NULL,
        check_run_id INTEGER NOT NULL,
        PRIMARY KEY (repository, head_sha, name)
      );

      CREATE TABLE decisions (
        seq          INTEGER PRIMARY KEY,
        repository   TEXT NOT NULL,
        number       INTEGER NOT NULL,
        head_sha     TEXT NOT NULL,
        agent_id     TEXT,
        outcome      TEXT NOT NULL,
        ts           TEXT NOT NULL
      );
      CREATE INDEX decisions_pr ON decisions (repository, number, seq);

      CREATE TABLE approvals (
        seq            INTEGER PRIMARY KEY,
        repository     TEXT NOT NULL,
        number         INTEGER NOT NULL,
        approver       TEXT NOT NULL,
        verdict        TEXT NOT NULL,
        gate           TEXT,
        head_sha       TEXT NOT NULL,
        diff_hash      TEXT NOT NULL,
        policy_version TEXT NOT NULL,
        source         TEXT NOT NULL,
        ts             TEXT NOT NULL
      );
      CREATE INDEX approvals_pr ON approvals (repository, number, seq);
    `,
  },
  {
    version: 3,
    name: 'agent session checkpoints',
    sql: `
      -- Opaque session state saved by agents to resume after a crash. The chain records each save's
      -- hash and size; the state itself lives here, outside the chain.
      CREATE TABLE session_checkpoints (
        seq        INTEGER PRIMARY KEY,
        agent_id   TEXT NOT NULL,
        state      TEXT NOT NULL,
        created_at TEXT NOT NULL
      );
      CREATE INDEX session_checkpoints_agent ON session_checkpoints (agent_id, seq);
    `,
  },
  {
    version: 4,
    name: 'Slack approval requests',
    sql: `
      -- One Slack approval request per PR head: what it needs, and where its message is.
      CREATE TABLE slack_approvals (
        approval_key    TEXT PRIMARY KEY,
        repository      TEXT NOT NULL,
        number          INTEGER NOT NULL,
        head_sha        TEXT NOT NULL,
        installation_id INTEGER,
        agent_id        TEXT NOT NULL,
        context         TEXT NOT NULL,
        state           TEXT NOT NULL DEFAULT 'pending',
        channel         TEXT,
        ts              TEXT,
        created_at      TEXT NOT NULL
      );
      -- Other messages updated in place (promotion requests): where each one is.
      CREATE TABLE slack_messages (
        message_key TEXT PRIMARY KEY,
        channel     TEXT NOT NULL,
        ts          TEXT NOT NULL
      );
    `,
  },
  {
    version: 5,
    name: 'signed requests seen, for replay protection across restarts',
    sql: `
      -- A signed request (Slack's, keyed by a hash of its signature) is accepted once while its
      -- timestamp is fresh; it is kept until then, so a restart does not forget it.
      CREATE TABLE seen_requests (
        key        TEXT PRIMARY KEY,
        expires_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX seen_requests_expiry ON seen_requests (expires_at);
    `,
  },
  {
    version: 6,
    name: 'chain queries by type and agent use an index',
    sql: `
      -- Queries by type (findings, council membership, execution locks, decisions since a day) and
      -- by type and agent (bad outcomes, revocations, promotions) scanned the whole chain: at a
      -- million entries that holds the event loop for about a second a call. One index serves both;
      -- its rows end with the seq (the rowid), so ORDER BY seq walks it too. It costs one B-tree
      -- insert per append (see bench:ledger).
      CREATE INDEX ledger_entries_type_agent ON ledger_entries (type, agent_id);
    `,
  },
  {
    version: 7,
    name: 'a heartbeat row, written by the readiness probe',
    sql: `
      -- One row, rewritten and committed by each readiness probe: a transaction rolled back proves
      -- nothing where the failure is at commit (a full disk, a file that cannot grow).
      CREATE TABLE heartbeat (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        at TEXT NOT NULL
      );
    `,
  },
  {
    version: 8,
    name: 'ledger followers and their positions',
    sql: `
      -- A follower derives work from the chain (outbox calls, follow-up entries). Its position is
      -- advanced in the transaction that queues the work, so an entry's consequences are queued
      -- exactly once, by whichever process gets there, across crashes and restarts. An existing
      -- ledger starts its followers at its head: what came before was handled the old way.
      CREATE TABLE follower_positions (
        name TEXT PRIMARY KEY,
        seq  INTEGER NOT NULL
      );
      INSERT INTO follower_positions (name, seq)
        SELECT 'consequences', COALESCE(MAX(seq), 0) FROM ledger_entries;
    `,
  },
  {
    version: 9,
    name: 'outbox claims with a lease',
    sql: `
      -- A claimer holds a message until lease_until; after it, another claimer may take it over (a
      -- process that died mid-delivery). Only the holder can mark the message done or retry it.
      ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
      ALTER TABLE outbox ADD COLUMN lease_until TEXT;
    `,
  },
  {
    version: 10,
    name: 'the inbox walked in arrival order',
    sql: `
      -- The inbox worker asks for the oldest pending deliveries each time one finishes: walked in
      -- seq order, not every pending row sorted again (a backlog of thousands under a burst).
      CREATE INDEX inbox_due ON inbox (source, status, seq);
    `,
  },
  {
    version: 11,
    name: 'decisions by head commit',
    sql: `
      -- The other PRs at a head commit are read in the transaction of every decision (they share its
      -- check) and the PR at a head on every check-run click: without this index each read walked
      -- all the repository's decisions, a cost that grew with the ledger (issue 14). Its rows end
      -- with the seq (the rowid), so the newest at a head is its last.
      CREATE INDEX decisions_head ON decisions (repository, head_sha);
    `,
  },
  {
    version: 12,
    name: 'one index fewer written per stored delivery',
    sql: `
      -- Read by no query since inbox_due (version 10) walks the pending deliveries, yet written by
      -- every delivery stored before its 2xx and again when it is processed (issue 14).
      DROP INDEX IF EXISTS inbox_pending;
    `,
  },
];
