import { cpSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { dbOf, Ledger } from '../../src/ledger/ledger.js';
import { openLedgerDb } from '../../src/ledger/open-ledger-db.js';
import { agov, sqlite, tempDir } from '../helpers/agov.js';
import { seedHistory } from '../helpers/ledger-history.js';
import { testRuntime } from '../helpers/runtime.js';
import { hostKey, otherKey, rehash, resignCheckpoint, rows, shell, writeChain } from '../ledger/attacker.js';

/** A ledger of 6 entries: 3 agents, each registered and its token rotated. */
async function seedLedger(
  ids = ['docs-bot', 'test-bot', 'infra-bot'],
  ledger = join(tempDir(), 'ledger.db'),
) {
  const rt = await testRuntime({ ledgerPath: ledger });
  for (const id of ids) await rt.governance.registerAgent({ id, tier: 'T1', owner: 'alice' }, 'test');
  for (const id of ids) await rt.governance.rotateToken(id, 'test');
  await rt.close();
  return { ledger, env: { LEDGER_PATH: ledger } };
}

/**
 * A fresh copy, for each test, of the ledger directory `seed` made once for the file (the database
 * and the signing key beside it): each test tampers with its own copy, none pays for the seeding.
 */
function copyPerTest<T extends { ledger: string }>(seed: () => Promise<T>) {
  let made: T;
  const copy = { ledger: '', env: {} as Record<string, string>, made: () => made };
  beforeAll(async () => {
    made = await seed();
  });
  beforeEach(() => {
    const dir = tempDir();
    cpSync(dirname(made.ledger), dir, { recursive: true });
    copy.ledger = join(dir, basename(made.ledger));
    copy.env = { LEDGER_PATH: copy.ledger };
  });
  return copy;
}

describe('agov ledger verify', () => {
  const seeded = copyPerTest(() => seedLedger());
  let ledger: string;
  let env: Record<string, string>;
  beforeEach(() => {
    ({ ledger, env } = seeded);
  });

  it('exits 0 on an intact ledger and says how many entries it checked', () => {
    const r = agov(['ledger', 'verify'], env);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/ok: 6 entries checked, chain intact/);
  });

  it('the database itself refuses updates and deletes of the chain', () => {
    const update = sqlite(ledger, "UPDATE ledger_entries SET actor = 'mallory' WHERE seq = 2;");
    expect(update.status).not.toBe(0);
    expect(update.stderr).toMatch(/append-only: updates are refused/);
    const del = sqlite(ledger, 'DELETE FROM ledger_entries WHERE seq = 6;');
    expect(del.status).not.toBe(0);
    expect(del.stderr).toMatch(/append-only: deletes are refused/);
    const forged = sqlite(
      ledger,
      "INSERT INTO ledger_entries VALUES (9, 't', 'agent.registered', NULL, 'x', '{}', 'bad', 'bad');",
    );
    expect(forged.stderr).toMatch(/must extend the chain head/);
    expect(agov(['ledger', 'verify'], env).status).toBe(0);
  });

  it('names the entry whose payload had one byte changed', () => {
    sqlite(
      ledger,
      "DROP TRIGGER ledger_entries_no_update; UPDATE ledger_entries SET payload = replace(payload, 'alice', 'alicf') WHERE seq = 3;",
    );
    const r = agov(['ledger', 'verify'], env);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^first bad sequence: 3$/m);
    expect(r.stdout).toMatch(/entry 3 was changed after it was written/);
    expect(r.stdout).toMatch(/append-only triggers .* are missing/);
  });

  it('names the first entry of a deleted row', () => {
    sqlite(ledger, 'DROP TRIGGER ledger_entries_no_delete; DELETE FROM ledger_entries WHERE seq = 4;');
    const r = agov(['ledger', 'verify'], env);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^first bad sequence: 4$/m);
  });

  it('names the first of two swapped rows', () => {
    sqlite(
      ledger,
      `DROP TRIGGER ledger_entries_no_update;
       CREATE TEMP TABLE a AS SELECT * FROM ledger_entries WHERE seq = 2;
       CREATE TEMP TABLE b AS SELECT * FROM ledger_entries WHERE seq = 5;
       UPDATE ledger_entries SET ts = (SELECT ts FROM b), type = (SELECT type FROM b), agent_id = (SELECT agent_id FROM b),
         actor = (SELECT actor FROM b), payload = (SELECT payload FROM b), prev_hash = (SELECT prev_hash FROM b), hash = (SELECT hash FROM b)
         WHERE seq = 2;
       UPDATE ledger_entries SET ts = (SELECT ts FROM a), type = (SELECT type FROM a), agent_id = (SELECT agent_id FROM a),
         actor = (SELECT actor FROM a), payload = (SELECT payload FROM a), prev_hash = (SELECT prev_hash FROM a), hash = (SELECT hash FROM a)
         WHERE seq = 5;`,
    );
    const r = agov(['ledger', 'verify'], env);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^first bad sequence: 2$/m);
  });

  it('names the first missing entry when the tail is cut after a checkpoint', () => {
    expect(agov(['checkpoint', 'create'], env).status).toBe(0);
    sqlite(ledger, 'DROP TRIGGER ledger_entries_no_delete; DELETE FROM ledger_entries WHERE seq >= 5;');
    const r = agov(['ledger', 'verify'], env);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^first bad sequence: 5$/m);
    expect(r.stdout).toMatch(/the tail was cut off/);
  });

  it('with --head, catches history rewritten wholesale on the host', async () => {
    expect(agov(['checkpoint', 'create'], env).status).toBe(0);
    const head = agov(['ledger', 'head'], env);
    expect(head.status).toBe(0);
    const headFile = join(tempDir(), 'head.json');
    writeFileSync(headFile, head.stdout);
    // The attacker replaces the whole database with a fresh, self-consistent history, checkpoint
    // (and pinned key, the attacker's own) included.
    const { ledger: forged } = await seedLedger(['docs-bot', 'evil-bot', 'infra-bot']);
    expect(agov(['checkpoint', 'create'], { LEDGER_PATH: forged }).status).toBe(0);
    expect(agov(['ledger', 'verify'], { LEDGER_PATH: forged }).status).toBe(0);
    const r = agov(['ledger', 'verify', '--head', headFile], { LEDGER_PATH: forged });
    expect(r.status).toBe(1);
    // Entry 7 is the key pin the first checkpoint wrote; it is where the two histories' heads differ.
    expect(r.stdout).toMatch(/^first bad sequence: 7$/m);
    expect(r.stdout).toMatch(/history was rewritten/);
  });

  it('refuses a head file whose content was altered', () => {
    expect(agov(['checkpoint', 'create'], env).status).toBe(0);
    const head = JSON.parse(agov(['ledger', 'head'], env).stdout);
    const headFile = join(tempDir(), 'head.json');
    writeFileSync(headFile, JSON.stringify({ ...head, headSeq: 2 }));
    const r = agov(['ledger', 'verify', '--head', headFile], env);
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toMatch(/^agov: the signature of .* does not match its content: it was altered$/);
  });
});

/** Rewrites the whole chain around a key of the attacker's: pin, checkpoint and all. */
function swapPinnedKey(ledger: string, key = otherKey()) {
  const chain = rows(ledger).map((r) =>
    r.type === 'ledger.key_pinned'
      ? { ...r, payload: JSON.stringify({ ...JSON.parse(r.payload), publicKey: key.publicKey }) }
      : r,
  );
  const next = rehash(chain);
  writeChain(ledger, next);
  resignCheckpoint(ledger, key, () => undefined, { seq: 9, hash: next[8]!.hash });
}

/**
 * An index that disagrees with the table (issue 12): a covering index on every column of the chain,
 * made the planner's choice, hidden while entry 6 and its decision are turned from deny to allow,
 * then put back: the index still says deny, the table allow.
 */
function desyncedCoveringIndex(ledger: string): void {
  const columns = 'seq, ts, type, agent_id, actor, payload, prev_hash, hash';
  shell(
    ledger,
    `CREATE INDEX evil ON ledger_entries (${columns}); ANALYZE;
     UPDATE sqlite_stat1 SET stat = '11 1 1 1 1 1 1 1 1 sz=1' WHERE idx = 'evil';`,
  );
  const root = sqlite(ledger, "SELECT rootpage FROM sqlite_master WHERE name = 'evil';").stdout.trim();
  shell(ledger, "PRAGMA writable_schema = ON; DELETE FROM sqlite_master WHERE name = 'evil';");
  shell(
    ledger,
    `DROP TRIGGER ledger_entries_no_update;
     UPDATE ledger_entries SET payload = replace(payload, '"outcome":"deny"', '"outcome":"allow"') WHERE seq = 6;
     UPDATE decisions SET outcome = 'allow' WHERE seq = 6;`,
  );
  shell(
    ledger,
    `PRAGMA writable_schema = ON;
     INSERT INTO sqlite_master VALUES ('index', 'evil', 'ledger_entries', ${root}, 'CREATE INDEX evil ON ledger_entries (${columns})');`,
  );
}

/** A row put into ledger_entries as it is, past the triggers. */
function insertRow(ledger: string, values: string): void {
  shell(ledger, `DROP TRIGGER ledger_entries_chained; INSERT INTO ledger_entries VALUES (${values});`);
}

interface Tamper {
  name: string;
  tamper: (ledger: string) => void;
  /** Extra arguments for verify; `{publicKeyFile}` is replaced by the exported public key. */
  args?: string[];
  expect: RegExp[];
}

const TAMPERS: Tamper[] = [
  {
    name: 'edit: one byte of an entry',
    tamper: (l) =>
      shell(
        l,
        "DROP TRIGGER ledger_entries_no_update; UPDATE ledger_entries SET payload = replace(payload, 'leaked', 'leakee') WHERE seq = 5;",
      ),
    expect: [/^first bad sequence: 5$/m, /entry 5 was changed after it was written/],
  },
  {
    name: 'delete: one entry',
    tamper: (l) =>
      shell(l, 'DROP TRIGGER ledger_entries_no_delete; DELETE FROM ledger_entries WHERE seq = 4;'),
    expect: [/^first bad sequence: 4$/m, /entry 4 is missing/],
  },
  {
    name: 'reorder: two entries swapped, hashes and all',
    tamper: (l) => {
      const r = rows(l);
      writeChain(l, [r[0]!, { ...r[2]!, seq: 2 }, { ...r[1]!, seq: 3 }, ...r.slice(3)]);
    },
    expect: [/^first bad sequence: 2$/m, /does not link to entry 1/],
  },
  {
    name: 'truncate: the tail cut off before the checkpoint head',
    tamper: (l) =>
      shell(l, 'DROP TRIGGER ledger_entries_no_delete; DELETE FROM ledger_entries WHERE seq >= 8;'),
    expect: [/^first bad sequence: 8$/m, /the tail was cut off/],
  },
  {
    name: 'projection: the revoked agent made active at T4 with a token of the attacker’s',
    tamper: (l) =>
      shell(
        l,
        `UPDATE agent_metrics SET status = 'active', tier = 'T4', token_hash = '${'e'.repeat(64)}' WHERE agent_id = 'infra-bot';`,
      ),
    expect: [/^first bad table: agent_metrics$/m, /^first bad key: agent_id=infra-bot$/m, /tier/],
  },
  {
    name: 'projection: an agent the chain never registered',
    tamper: (l) =>
      shell(
        l,
        "INSERT INTO agent_metrics (agent_id, tier, status, registered_at, tier_since) VALUES ('evil-bot', 'T4', 'active', 't', 't');",
      ),
    expect: [/^first bad table: agent_metrics$/m, /^first bad key: agent_id=evil-bot$/m, /not in the chain/],
  },
  {
    name: 'projection: an action deleted',
    tamper: (l) => shell(l, "DELETE FROM agent_actions WHERE agent_id = 'test-bot' AND seq = 4;"),
    expect: [/^first bad table: agent_actions$/m, /^first bad key: agent_id=test-bot, seq=4$/m, /missing/],
  },
  {
    // Counts equal, every stored row in the chain: only a check that every chain row is stored finds it.
    name: 'projection: a table rebuilt without its key, one row doubled and another gone',
    tamper: (l) =>
      shell(
        l,
        `CREATE TABLE p2 AS SELECT * FROM promotions WHERE seq = 5;
         INSERT INTO p2 SELECT * FROM promotions WHERE seq = 5;
         DROP TABLE promotions;
         ALTER TABLE p2 RENAME TO promotions;`,
      ),
    expect: [/^first bad table: promotions$/m, /^first bad key: seq=8$/m, /missing: the chain wrote it/],
  },
  {
    name: 'projection: actions rebuilt without their key, one doubled and another gone',
    tamper: (l) =>
      shell(
        l,
        `CREATE TABLE a2 AS SELECT * FROM agent_actions WHERE NOT (agent_id = 'docs-bot' AND seq = 6);
         INSERT INTO a2 SELECT * FROM agent_actions WHERE agent_id = 'test-bot' AND seq = 4;
         DROP TABLE agent_actions;
         ALTER TABLE a2 RENAME TO agent_actions;`,
      ),
    expect: [
      /^first bad table: agent_actions$/m,
      /^first bad key: agent_id=docs-bot, seq=6$/m,
      /missing: the chain wrote it/,
    ],
  },
  {
    // The replay finds its entries through this index; the chain's own count of them proves it.
    // Entry 11 is after the checkpoint: nothing but that count would see it hidden.
    name: 'index: the merged PR hidden from the type index, and from the agent’s metrics',
    tamper: (l) => {
      shell(
        l,
        `CREATE INDEX hiding ON ledger_entries (type, agent_id) WHERE seq <> 11;
         PRAGMA writable_schema = ON;
         UPDATE sqlite_master SET rootpage = (SELECT rootpage FROM sqlite_master WHERE name = 'hiding')
           WHERE name = 'ledger_entries_type_agent';
         DELETE FROM sqlite_master WHERE name = 'hiding';`,
      );
      shell(
        l,
        "UPDATE agent_metrics SET merged_prs_at_tier = 0, merged_prs_total = 0 WHERE agent_id = 'docs-bot';",
      );
    },
    expect: [
      /^first bad table: agent_metrics$/m,
      /^first bad key: agent_id=docs-bot$/m,
      /^note: warning: the index ledger_entries_type_agent does not match the entries/m,
    ],
  },
  {
    // The service finds entries by type through this index: verify must not pass the file.
    name: 'index: the merged PR hidden from the type index only, the projections untouched',
    tamper: (l) =>
      shell(
        l,
        `CREATE INDEX hiding ON ledger_entries (type, agent_id) WHERE seq <> 11;
         PRAGMA writable_schema = ON;
         UPDATE sqlite_master SET rootpage = (SELECT rootpage FROM sqlite_master WHERE name = 'hiding')
           WHERE name = 'ledger_entries_type_agent';
         DELETE FROM sqlite_master WHERE name = 'hiding';`,
      ),
    expect: [
      /^first bad schema object: ledger_entries_type_agent$/m,
      /index ledger_entries_type_agent on ledger_entries does not hold what its table holds/,
    ],
  },
  {
    // A quote and a backslash in the type: the check reads types from the JSON of each entry.
    name: 'unknown type: an entry of a type this build does not know, hashed and linked',
    tamper: (l) => {
      const chain = rows(l);
      writeChain(l, rehash(chain.map((r) => (r.seq === 10 ? { ...r, type: 'agent."shadow\\' } : r))));
    },
    expect: [/^first bad sequence: 10$/m, /entry 10 has an unknown type "agent\."shadow\\"/],
  },
  {
    name: 'projection: a violation deleted',
    tamper: (l) => shell(l, 'DELETE FROM violations WHERE seq = 4;'),
    expect: [/^first bad table: violations$/m, /^first bad key: seq=4$/m],
  },
  {
    name: 'projection: the revocation rewritten as a reinstatement',
    tamper: (l) => shell(l, "UPDATE promotions SET kind = 'reinstatement' WHERE seq = 5;"),
    expect: [/^first bad table: promotions$/m, /^first bad key: seq=5$/m],
  },
  {
    name: 'projection: a deny turned into an allow',
    tamper: (l) => shell(l, "UPDATE decisions SET outcome = 'allow' WHERE seq = 6;"),
    expect: [/^first bad table: decisions$/m, /^first bad key: seq=6$/m],
  },
  {
    name: 'projection: a forged approval',
    tamper: (l) =>
      shell(
        l,
        "INSERT INTO approvals SELECT 100, repository, number, 'mallory', verdict, gate, head_sha, diff_hash, policy_version, source, ts FROM approvals WHERE seq = 7;",
      ),
    expect: [/^first bad table: approvals$/m, /^first bad key: seq=100$/m],
  },
  {
    name: 'checkpoint: state edited, hash left as it was',
    tamper: (l) =>
      shell(l, `UPDATE checkpoints SET state = replace(state, '"status":"revoked"', '"status":"active"');`),
    expect: [
      /^first bad checkpoint: ckpt-\d{8}-\d{6}-[0-9a-f]{8}$/m,
      /state does not match its signed state hash/,
    ],
  },
  {
    name: 'checkpoint: state edited and signed again with the host’s own key',
    tamper: (l) =>
      resignCheckpoint(l, hostKey(l), (s) => {
        s.agents['infra-bot'].status = 'active';
        s.agents['infra-bot'].tier = 'T4';
        delete s.revocations['infra-bot'];
      }),
    expect: [/^first bad checkpoint: ckpt-/m, /state differs from the chain at agents\.infra-bot\.status/],
  },
  {
    name: 'checkpoint: signed again with another key',
    tamper: (l) => resignCheckpoint(l, otherKey()),
    expect: [
      /^first bad checkpoint: ckpt-/m,
      /is not signed by the key pinned at entry 9: it was altered or signed by someone else/,
    ],
  },
  {
    name: 'pinned key: edited in its entry',
    tamper: (l) => {
      const key = otherKey();
      shell(
        l,
        `DROP TRIGGER ledger_entries_no_update; UPDATE ledger_entries SET payload = json_set(payload, '$.publicKey', '${key.publicKey}') WHERE seq = 9;`,
      );
      resignCheckpoint(l, key);
    },
    expect: [/^first bad sequence: 9$/m, /entry 9 was changed after it was written/],
  },
  {
    name: 'pinned key: the whole chain rewritten around another key, checked with --public-key',
    tamper: (l) => swapPinnedKey(l),
    args: ['--public-key', '{publicKeyFile}'],
    expect: [/^first bad sequence: 9$/m, /entry 9 pins a key other than the one in .*ledger-public-key\.pem/],
  },
  {
    name: 'pinned key: a second key pinned after the first',
    tamper: (l) => {
      const key = otherKey();
      const chain = rows(l);
      const pin = chain.find((r) => r.type === 'ledger.key_pinned')!;
      const next = rehash([
        ...chain,
        {
          ...pin,
          seq: 12,
          payload: JSON.stringify({ ...JSON.parse(pin.payload), publicKey: key.publicKey }),
        },
      ]);
      writeChain(l, next);
      resignCheckpoint(l, key);
    },
    expect: [/^first bad sequence: 12$/m, /entry 12 pins a second signing key/],
  },
  {
    name: 'index: a covering index that disagrees with the table, made the planner’s choice',
    tamper: desyncedCoveringIndex,
    args: ['--public-key', '{publicKeyFile}'],
    expect: [/^first bad schema object: evil$/m, /index evil on ledger_entries is not created by this build/],
  },
  {
    name: 'schema: a trigger on a projection table the migrations do not create',
    tamper: (l) =>
      shell(
        l,
        "CREATE TRIGGER keep AFTER INSERT ON decisions BEGIN UPDATE decisions SET outcome = 'allow'; END;",
      ),
    expect: [/^first bad schema object: keep$/m, /trigger keep on decisions is not created by this build/],
  },
  {
    name: 'schema: a trigger on the outbox (a table verify does not compare) that turns a failed check green',
    tamper: (l) =>
      shell(
        l,
        `CREATE TRIGGER outbox_fix AFTER INSERT ON outbox BEGIN
           UPDATE outbox SET payload = replace(NEW.payload, '"conclusion":"failure"', '"conclusion":"success"') WHERE id = NEW.id; END;`,
      ),
    expect: [
      /^first bad schema object: outbox_fix$/m,
      /trigger outbox_fix on outbox is not created by this build/,
    ],
  },
  {
    name: 'schema: a trigger on the inbox that reinstates a revoked agent',
    tamper: (l) =>
      shell(
        l,
        "CREATE TRIGGER inbox_t AFTER INSERT ON inbox BEGIN UPDATE agent_metrics SET status = 'active' WHERE agent_id = 'infra-bot'; END;",
      ),
    expect: [/^first bad schema object: inbox_t$/m, /trigger inbox_t on inbox is not created by this build/],
  },
  {
    name: 'schema: a view the migrations do not create',
    tamper: (l) => shell(l, 'CREATE VIEW seen AS SELECT * FROM outbox;'),
    expect: [/^first bad schema object: seen$/m, /view seen is not created by this build/],
  },
  {
    name: 'index: agent_metrics’ key index swapped for one that finds a revoked agent’s row under another’s name',
    tamper: (l) =>
      shell(
        l,
        `CREATE UNIQUE INDEX tmpx ON agent_metrics (CASE agent_id WHEN 'infra-bot' THEN 'docs-bot' WHEN 'docs-bot' THEN 'infra-bot' ELSE agent_id END);
         PRAGMA writable_schema = ON;
         UPDATE sqlite_master SET rootpage = (SELECT rootpage FROM sqlite_master WHERE name = 'tmpx') WHERE name = 'sqlite_autoindex_agent_metrics_1';
         DELETE FROM sqlite_master WHERE name = 'tmpx';`,
      ),
    expect: [
      /^first bad schema object: sqlite_autoindex_agent_metrics_1$/m,
      /index sqlite_autoindex_agent_metrics_1 on agent_metrics does not hold what its table holds \(integrity_check: /,
    ],
  },
  {
    name: 'index: violations_agent made partial (hiding test-bot’s violation), its SQL text restored',
    tamper: (l) => {
      const sql = sqlite(l, "SELECT sql FROM sqlite_master WHERE name = 'violations_agent';").stdout.trim();
      shell(
        l,
        `DROP INDEX violations_agent; CREATE INDEX violations_agent ON violations (agent_id, ts) WHERE agent_id <> 'test-bot';
         PRAGMA writable_schema = ON; UPDATE sqlite_master SET sql = '${sql}' WHERE name = 'violations_agent';`,
      );
    },
    expect: [
      /^first bad schema object: violations_agent$/m,
      /index violations_agent on violations does not hold/,
    ],
  },
  {
    name: 'schema: a projection table replaced by a view',
    tamper: (l) => shell(l, 'ALTER TABLE decisions RENAME TO d2; CREATE VIEW decisions AS SELECT * FROM d2;'),
    expect: [/^first bad schema object: decisions$/m, /decisions is a view, not the table/],
  },
  {
    name: 'schema: the hash column dropped from the chain',
    tamper: (l) =>
      shell(l, 'DROP TRIGGER ledger_entries_chained; ALTER TABLE ledger_entries DROP COLUMN hash;'),
    expect: [/^first bad schema object: ledger_entries$/m, /does not have the columns this build creates/],
  },
  {
    // A text sequence number '5' sorts after every integer: the chain must not be judged from it.
    name: 'schema: the chain rebuilt without its key and column types, a text row added',
    tamper: (l) =>
      shell(
        l,
        `DROP TRIGGER ledger_entries_no_update; DROP TRIGGER ledger_entries_no_delete; DROP TRIGGER ledger_entries_chained;
         CREATE TABLE e2 (seq, ts, type, agent_id, actor, payload, prev_hash, hash);
         INSERT INTO e2 SELECT * FROM ledger_entries; INSERT INTO e2 SELECT '5', ts, type, agent_id, actor, payload, prev_hash, hash FROM ledger_entries WHERE seq = 5;
         DROP TABLE ledger_entries; ALTER TABLE e2 RENAME TO ledger_entries;`,
      ),
    expect: [/^first bad schema object: ledger_entries$/m, /not defined as this build creates it/],
  },
  {
    name: 'rows: a key pinned at entry 0, the attacker’s',
    tamper: (l) => {
      const pin = rows(l).find((r) => r.type === 'ledger.key_pinned')!;
      const payload = JSON.stringify({ ...JSON.parse(pin.payload), publicKey: otherKey().publicKey });
      insertRow(l, `0, '${pin.ts}', 'ledger.key_pinned', NULL, 'x', '${payload}', 'x', 'x'`);
    },
    args: ['--public-key', '{publicKeyFile}'],
    expect: [/^first bad sequence: 0$/m, /entry 0 is outside the chain, which starts at entry 1/],
  },
  {
    name: 'rows: a forged decision at entry -1, with its projection row',
    tamper: (l) => {
      insertRow(l, "-1, 't', 'decision.recorded', 'docs-bot', 'x', '{}', 'x', 'x'");
      shell(l, "INSERT INTO agent_actions VALUES ('docs-bot', -1, 'decision.recorded', 't', 'x');");
    },
    expect: [/^first bad sequence: -1$/m, /entry -1 is outside the chain/],
  },
  {
    // Was a run of hours (a window per 4,096 sequence numbers up to it), and 2^62 a crash.
    name: 'rows: rows far past the head (4e12 and 2^62)',
    tamper: (l) => {
      insertRow(l, "4000000000000, 't', 'finding.resolved', NULL, 'x', '{}', 'x', 'x'");
      shell(
        l,
        "INSERT INTO ledger_entries VALUES (4611686018427387904, 't', 'finding.resolved', NULL, 'x', '{}', 'x', 'x');",
      );
    },
    expect: [
      /^first bad sequence: 12$/m,
      /^note: the highest stored sequence number is 4611686018427387904 but 13 rows are stored/m,
    ],
  },
  {
    name: 'blob: a payload stored as a BLOB',
    tamper: (l) =>
      shell(
        l,
        'DROP TRIGGER ledger_entries_no_update; UPDATE ledger_entries SET payload = CAST(payload AS BLOB) WHERE seq = 6;',
      ),
    expect: [/^first bad sequence: 6$/m, /entry 6 holds a BLOB where the chain stores text/],
  },
  {
    name: 'collation: decisions.agent_id declared NOCASE, the agent’s name changed in case',
    tamper: (l) => {
      shell(
        l,
        "PRAGMA writable_schema = ON; UPDATE sqlite_master SET sql = replace(sql, 'agent_id     TEXT', 'agent_id     TEXT COLLATE NOCASE') WHERE name = 'decisions';",
      );
      shell(l, 'UPDATE decisions SET agent_id = upper(agent_id) WHERE seq = 6;');
    },
    expect: [/^first bad table: decisions$/m, /^first bad key: seq=6$/m, /agent_id is "[A-Z-]+"/],
  },
  {
    name: 'collation: agent_actions declared RTRIM, an action moved to a name with a trailing space',
    tamper: (l) => {
      shell(
        l,
        "PRAGMA writable_schema = ON; UPDATE sqlite_master SET sql = replace(sql, 'agent_id TEXT NOT NULL', 'agent_id TEXT NOT NULL COLLATE RTRIM') WHERE name = 'agent_actions';",
      );
      shell(l, "UPDATE agent_actions SET agent_id = agent_id || ' ' WHERE seq = 6;");
    },
    expect: [/^first bad table: agent_actions$/m, /seq=6/],
  },
];

describe('agov ledger verify against an attacker on the host', () => {
  const seeded = copyPerTest(seedHistory);
  let ledger: string;
  let env: Record<string, string>;
  let publicKeyFile: string;
  beforeEach(() => {
    ({ ledger, env } = seeded);
    publicKeyFile = seeded.made().publicKeyFile;
  });

  it('exits 0 on an untouched ledger, with and without the exported public key', () => {
    for (const args of [[], ['--public-key', publicKeyFile]]) {
      const r = agov(['ledger', 'verify', ...args], env);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/^ok: 11 entries checked, chain intact, head 11 [0-9a-f]{64}$/m);
      expect(r.stdout).toMatch(
        /^ok: 1 checkpoint signed by the key pinned at entry 9, its state matches the chain$/m,
      );
      expect(r.stdout).toMatch(
        /^ok: projections match the chain \(agent_actions, agent_metrics, violations, promotions, decisions, approvals\)$/m,
      );
    }
  });

  it.each(TAMPERS)('exits 1 and names the first bad thing: $name', (t) => {
    t.tamper(ledger);
    const args = (t.args ?? []).map((a) => a.replace('{publicKeyFile}', publicKeyFile));
    const r = agov(['ledger', 'verify', ...args], env);
    expect(r.stderr).toBe('');
    for (const pattern of t.expect) expect(r.stdout).toMatch(pattern);
    expect(r.status).toBe(1);
  });

  it('without the type index the replay reads every row: ok untouched, a changed projection named', () => {
    shell(ledger, 'DROP INDEX ledger_entries_type_agent;');
    expect(agov(['ledger', 'verify'], env).status).toBe(0);
    shell(ledger, "UPDATE decisions SET outcome = 'allow' WHERE seq = 6;");
    const r = agov(['ledger', 'verify'], env);
    expect(r.stdout).toMatch(/^first bad table: decisions$/m);
    expect(r.stdout).toMatch(/^first bad key: seq=6$/m);
    expect(r.status).toBe(1);
  });

  it('ledger head prints the key pinned in the chain, not one in a row at entry 0', () => {
    const pinned = agov(['ledger', 'head', '--public-key'], env).stdout;
    const pin = rows(ledger).find((r) => r.type === 'ledger.key_pinned')!;
    const payload = JSON.stringify({ ...JSON.parse(pin.payload), publicKey: otherKey().publicKey });
    insertRow(ledger, `0, '${pin.ts}', 'ledger.key_pinned', NULL, 'x', '${payload}', 'x', 'x'`);
    const r = agov(['ledger', 'head', '--public-key'], env);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(pinned);
  });

  it('ledger head refuses a pinned key that is no key, by name', () => {
    shell(
      ledger,
      `DROP TRIGGER ledger_entries_no_update; UPDATE ledger_entries SET payload = json_set(payload, '$.publicKey', 'bm90IGEga2V5') WHERE seq = 9;`,
    );
    const r = agov(['ledger', 'head', '--public-key'], env);
    expect(r.stderr.trim()).toMatch(/^agov: the key pinned at entry 9 is not a public key/);
    expect(r.status).toBe(2);
  });

  it('without the public key, a chain rewritten wholesale around another key is self-consistent', () => {
    // What --public-key (or --head) is for: nothing on the host can tell this history from the real one.
    swapPinnedKey(ledger);
    expect(agov(['ledger', 'verify'], env).status).toBe(0);
    expect(agov(['ledger', 'verify', '--public-key', publicKeyFile], env).status).toBe(1);
  });
});

/**
 * Just over one replay window (4,096) of replayed entries: 4 agents registered, 4,200 token
 * rotations, agent-0 revoked at entry 4,205, 5 heartbeats. Written with the ledger's own code.
 */
function seedPastOneWindow(): { ledger: string } {
  const ledger = join(tempDir(), 'ledger.db');
  const store = new Ledger(openLedgerDb(ledger));
  store.appendAll(
    [0, 1, 2, 3].map((a) => ({
      type: 'agent.registered' as const,
      agentId: `agent-${a}`,
      actor: 'test',
      payload: {
        name: `agent-${a}`,
        owner: null,
        tier: 'T1' as const,
        identities: { githubLogins: [], trailers: [] },
        tokenHash: null,
      },
    })),
  );
  store.appendAll(
    Array.from({ length: 4200 }, () => ({
      type: 'agent.token_rotated' as const,
      agentId: 'agent-3',
      actor: 'admin',
      payload: { tokenHash: 'f'.repeat(64) },
    })),
  );
  store.append({
    type: 'agent.status_changed',
    agentId: 'agent-0',
    actor: 'admin',
    payload: { from: 'active', to: 'revoked', reason: 'stolen' },
  });
  store.appendAll(
    Array.from({ length: 5 }, (_, n) => ({
      type: 'integration.event' as const,
      agentId: null,
      actor: 'system',
      payload: { event: 'heartbeat' as const, data: { n } },
    })),
  );
  dbOf(store).pragma('wal_checkpoint(TRUNCATE)');
  store.close();
  return { ledger };
}

describe('agov ledger verify against a type index that lies across a window edge', () => {
  const seeded = copyPerTest(async () => seedPastOneWindow());

  it('a revocation undone, hidden by an index listing another entry twice: the revoked agent named', () => {
    const { ledger, env } = seeded;
    expect(agov(['ledger', 'verify'], env).status).toBe(0);
    // The index hides entry 4,205 and lists entry 4,096 twice, once in each window.
    shell(
      ledger,
      `CREATE TABLE fake (t TEXT NOT NULL, a TEXT NOT NULL, r INTEGER NOT NULL, PRIMARY KEY (t, a, r)) WITHOUT ROWID;
       INSERT INTO fake SELECT type, coalesce(agent_id, ''), seq FROM ledger_entries WHERE seq <= 4204;
       INSERT INTO fake VALUES ('agent.registered', 'zz', 4096);
       PRAGMA writable_schema = ON;
       UPDATE sqlite_master SET rootpage = (SELECT rootpage FROM sqlite_master WHERE name = 'fake')
         WHERE name = 'ledger_entries_type_agent';
       DELETE FROM sqlite_master WHERE name = 'fake';`,
    );
    shell(
      ledger,
      "UPDATE agent_metrics SET status = 'active' WHERE agent_id = 'agent-0'; DELETE FROM promotions WHERE seq = 4205;",
    );
    const r = agov(['ledger', 'verify'], env);
    expect(r.stdout).toMatch(/^first bad table: (agent_metrics|promotions)$/m);
    expect(r.status).toBe(1);
  });
});
