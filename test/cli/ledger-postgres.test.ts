/**
 * `agov ledger verify`, `head`, `export` and `tail` on a PostgreSQL ledger, run as a user runs
 * them, against a private server: the ledger is a SQLite history (every projection table, a
 * checkpoint pinning the key at entry 9, entries after it) moved with `agov ledger copy`. Hostile
 * first: an attacker with the superuser switches the append-only triggers off and edits, deletes,
 * reorders and forges rows, projections, checkpoints and the pinned key; verify exits 1 naming the
 * first bad thing, as on SQLite. One database per case, cloned from the copied one.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agovAsync, tempDir } from '../helpers/agov.js';
import { seedHistory } from '../helpers/ledger-history.js';
import { PrivatePostgres } from '../helpers/postgres-server.js';
import { hashOf, hostKey, otherKey, rehash } from '../ledger/attacker.js';
import { behindTriggers, pgRows, psql, resignPgCheckpoint, writePgChain } from '../ledger/pg-attacker.js';

let server: PrivatePostgres;
let sqliteLedger: string;
let publicKeyFile: string;
/** The copied ledger, never touched: each case verifies a clone of it. */
let seeded: string;
let cases = 0;

beforeAll(async () => {
  server = await PrivatePostgres.start();
  const history = await seedHistory();
  sqliteLedger = history.ledger;
  publicKeyFile = history.publicKeyFile;
  seeded = await server.createDatabase();
  const copy = await agovAsync(['ledger', 'copy', '--to', seeded], { LEDGER_PATH: sqliteLedger });
  expect(copy.stderr).toBe('');
  expect(copy.stdout).toMatch(/^copied 1 checkpoint as signed; they verify there against the same key$/m);
}, 60_000);
afterAll(async () => {
  await server?.stop();
});

/** A database of its own holding the copied ledger (`CREATE DATABASE … TEMPLATE`). */
async function clone(): Promise<string> {
  const name = `agov_case_${++cases}`;
  await psql(server.url, `CREATE DATABASE ${name} TEMPLATE ${new URL(seeded).pathname.slice(1)}`);
  return `postgres://postgres@127.0.0.1:${server.port}/${name}`;
}

/** Rewrites the whole chain around a key of the attacker's: pin, head row, checkpoint and all. */
async function swapPinnedKey(url: string) {
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

interface Tamper {
  name: string;
  tamper: (url: string) => Promise<unknown>;
  args?: string[];
  env?: () => Record<string, string>;
  expect: RegExp[];
}

const TAMPERS: Tamper[] = [
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
    env: () => ({ LEDGER_SIGNING_KEY_PATH: join(dirname(sqliteLedger), 'ledger-signing-key.pem') }),
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
    tamper: (u) =>
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
];

describe('agov ledger verify on PostgreSQL against an attacker with the superuser', () => {
  it('the database itself refuses updates and deletes of the chain', async () => {
    const url = await clone();
    await expect(psql(url, "UPDATE ledger_entries SET actor = 'mallory' WHERE seq = 2")).rejects.toThrow(
      /append-only: updates are refused/,
    );
    await expect(psql(url, 'DELETE FROM ledger_entries WHERE seq = 11')).rejects.toThrow(
      /append-only: deletes are refused/,
    );
  });

  it.each(TAMPERS)('exits 1 and names the first bad thing: $name', async (t) => {
    const url = await clone();
    await t.tamper(url);
    const args = (t.args ?? []).map((a) => a.replace('{publicKeyFile}', publicKeyFile));
    const r = await agovAsync(['ledger', 'verify', '--database', url, ...args], t.env?.());
    expect(r.stderr).toBe('');
    for (const pattern of t.expect) expect(r.stdout).toMatch(pattern);
    expect(r.status).toBe(1);
  });

  it('without the public key, a chain rewritten wholesale around another key is self-consistent', async () => {
    const url = await clone();
    await swapPinnedKey(url);
    expect((await agovAsync(['ledger', 'verify', '--database', url])).status).toBe(0);
  });
});

describe('the ledger commands on PostgreSQL print what they print on SQLite', () => {
  const onSqlite = (args: string[]) => agovAsync(args, { LEDGER_PATH: sqliteLedger });

  it('verify: exits 0 untouched, with the same lines, through DATABASE_URL or --database', async () => {
    const sqlite = await onSqlite(['ledger', 'verify', '--public-key', publicKeyFile]);
    expect(sqlite.status).toBe(0);
    const byEnv = await agovAsync(['ledger', 'verify', '--public-key', publicKeyFile], {
      DATABASE_URL: seeded,
      LEDGER_PATH: join(tempDir(), 'absent.db'),
    });
    expect(byEnv.stderr).toBe('');
    expect(byEnv.status).toBe(0);
    expect(byEnv.stdout).toBe(sqlite.stdout);
    expect(byEnv.stdout).toMatch(/^ok: 11 entries checked, chain intact, head 11 [0-9a-f]{64}$/m);
    expect(byEnv.stdout).toMatch(
      /^ok: 1 checkpoint signed by the key pinned at entry 9, its state matches the chain$/m,
    );
    expect(byEnv.stdout).toMatch(/^ok: the key pinned at entry 9 is the one in .*ledger-public-key\.pem$/m);
  });

  it('head and head --public-key: the same signed head and key; verify --head holds the copy to it', async () => {
    for (const args of [
      ['ledger', 'head'],
      ['ledger', 'head', '--public-key'],
    ]) {
      const sqlite = await onSqlite(args);
      const postgres = await agovAsync([...args, '--database', seeded]);
      expect(postgres.stderr).toBe('');
      expect(postgres.status).toBe(0);
      expect(postgres.stdout).toBe(sqlite.stdout);
    }
    const headFile = join(tempDir(), 'head.json');
    writeFileSync(headFile, (await onSqlite(['ledger', 'head'])).stdout);
    const url = await clone();
    expect((await agovAsync(['ledger', 'verify', '--database', url, '--head', headFile])).status).toBe(0);
    // The attacker rewrites the chain from entry 5 on: every hash after it is theirs.
    const chain = await pgRows(url);
    await writePgChain(url, rehash(chain.map((r) => (r.seq === 5 ? { ...r, actor: 'mallory' } : r))));
    await psql(url, 'DELETE FROM checkpoints');
    const r = await agovAsync(['ledger', 'verify', '--database', url, '--head', headFile]);
    expect(r.stdout).toMatch(/^first bad sequence: 9$/m);
    expect(r.stdout).toMatch(
      /entry 9 does not match the hash that head file .* recorded: history was rewritten/,
    );
    expect(r.status).toBe(1);
  });

  it('export and tail: the same JSON lines', async () => {
    for (const args of [
      ['ledger', 'export', '--after', '3'],
      ['ledger', 'tail', '-n', '4', '--no-follow'],
    ]) {
      const sqlite = await onSqlite(args);
      const postgres = await agovAsync(args, { DATABASE_URL: seeded });
      expect(postgres.stderr).toBe('');
      expect(postgres.status).toBe(0);
      expect(postgres.stdout).toBe(sqlite.stdout);
      expect(postgres.stdout.trim().split('\n')).toHaveLength(args[1] === 'export' ? 8 : 4);
    }
  });

  it('stats: the same counts (the outbox is not copied)', async () => {
    const withoutOutbox = (text: string) => text.replace(/^outbox pending: \d+\n/m, '');
    const sqlite = await onSqlite(['ledger', 'stats']);
    const postgres = await agovAsync(['ledger', 'stats', '--database', seeded]);
    expect(postgres.stderr).toBe('');
    expect(postgres.status).toBe(0);
    expect(withoutOutbox(postgres.stdout)).toBe(withoutOutbox(sqlite.stdout));
    expect(postgres.stdout).toMatch(
      /^entries: 11 {2}head: [0-9a-f]{64}\nagents: 3\nviolations: 1\noutbox pending: 0\ncheckpoints: 1$/m,
    );
  });
});

describe('which ledger a command reads', () => {
  it('--ledger PATH wins over DATABASE_URL; --database with --ledger is refused', async () => {
    const r = await agovAsync(['--ledger', sqliteLedger, 'ledger', 'export', '--after', '10'], {
      DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
    });
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    const both = await agovAsync(['--ledger', sqliteLedger, 'ledger', 'verify', '--database', seeded]);
    expect(both.status).toBe(2);
    expect(both.stderr).toBe('agov: --database and --ledger name two ledgers: pass one\n');
  });

  it('refuses a bad URL, an unreachable server and a database without a ledger, never printing the password', async () => {
    await psql(server.url, "CREATE ROLE reader LOGIN PASSWORD 's3cret-pw' SUPERUSER");
    const empty = (await server.createDatabase()).replace('postgres@', 'reader:s3cret-pw@');
    const refusals: [Record<string, string>, string[], RegExp][] = [
      [
        { DATABASE_URL: 'mysql://reader:s3cret-pw@127.0.0.1/x' },
        [],
        /^agov: DATABASE_URL: not a PostgreSQL URL/,
      ],
      [{}, ['--database', 'not a url'], /^agov: --database: not a PostgreSQL URL/],
      [
        { DATABASE_URL: 'postgres://reader:s3cret-pw@127.0.0.1:1/x' },
        [],
        /^agov: cannot connect to PostgreSQL at postgres:\/\/reader@127\.0\.0\.1:1\/x: /,
      ],
      [
        { DATABASE_URL: empty },
        [],
        /^agov: no ledger in the database at postgres:\/\/reader@127\.0\.0\.1:\d+\/agov_test_\d+; /,
      ],
    ];
    for (const [env, args, message] of refusals) {
      const r = await agovAsync(['ledger', 'verify', ...args], env);
      expect(r.stderr).toMatch(message);
      expect(r.stdout + r.stderr).not.toContain('s3cret-pw');
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(r.status).toBe(2);
    }
    // Refused, not given a ledger: the database still holds no table.
    const tables = await psql(empty, "SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'");
    expect(tables[0]!.n).toBe(0);
  });
});
