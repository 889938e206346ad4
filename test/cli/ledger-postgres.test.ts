/**
 * `agov ledger verify`, `head`, `export` and `tail` on a PostgreSQL ledger, run as a user runs
 * them, against a private server: the ledger is a SQLite history (every projection table, a
 * checkpoint pinning the key at entry 9, entries after it) moved with `agov ledger copy`. Hostile
 * first: an attacker with the superuser switches the append-only triggers off and edits, deletes,
 * reorders and forges rows, projections, checkpoints and the pinned key; verify exits 1 naming the
 * first bad thing, as on SQLite. One database per case, cloned from the copied one.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agovAsync, tempDir } from '../helpers/agov.js';
import { seedHistory } from '../helpers/ledger-history.js';
import { PrivatePostgres } from '../helpers/postgres-server.js';
import { rehash } from '../ledger/attacker.js';
import { pgRows, psql, writePgChain } from '../ledger/pg-attacker.js';
import { PG_TAMPERS, swapPinnedKey } from '../ledger/pg-tampers.js';

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

  it.each(PG_TAMPERS)('exits 1 and names the first bad thing: $name', async (t) => {
    const url = await clone();
    await t.tamper(url, sqliteLedger);
    const args = (t.args ?? []).map((a) => a.replace('{publicKeyFile}', publicKeyFile));
    const r = await agovAsync(['ledger', 'verify', '--database', url, ...args], t.env?.(sqliteLedger));
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
