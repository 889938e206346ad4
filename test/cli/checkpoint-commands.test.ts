/**
 * `agov checkpoint list` and `show` print the same on PostgreSQL (DATABASE_URL) as on SQLite: the
 * SQLite history of `seedHistory` (one checkpoint, pinning the key at entry 9) is copied to a
 * private PostgreSQL server with `agov ledger copy`, and each command is run on both. Hostile
 * first: an id no checkpoint has (or one shaped as SQL) is one line on stderr, exit 2, on both.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgresLedger } from '../../src/ledger/postgres/postgres-ledger.js';
import { type AgovResult, agovAsync } from '../helpers/agov.js';
import { seedHistory } from '../helpers/ledger-history.js';
import { PrivatePostgres } from '../helpers/postgres-server.js';

let server: PrivatePostgres;
let sqliteLedger: string;
/** The copied ledger; the key file beside the SQLite ledger is the one it pinned. */
let copied: string;

beforeAll(async () => {
  server = await PrivatePostgres.start();
  sqliteLedger = (await seedHistory()).ledger;
  copied = await server.createDatabase();
  const copy = await agovAsync(['ledger', 'copy', '--to', copied], { LEDGER_PATH: sqliteLedger });
  expect(copy.stderr).toBe('');
}, 60_000);
afterAll(async () => {
  await server?.stop();
});

const onSqlite = (args: string[]) => agovAsync(args, { LEDGER_PATH: sqliteLedger });
/** LEDGER_PATH names where this host keeps the signing key; the ledger is DATABASE_URL's. */
const onPostgres = (args: string[], url = copied) =>
  agovAsync(args, { DATABASE_URL: url, LEDGER_PATH: sqliteLedger });

function expectSame(postgres: AgovResult, sqlite: AgovResult): void {
  expect(postgres.stderr).toBe(sqlite.stderr);
  expect(postgres.stdout).toBe(sqlite.stdout);
  expect(postgres.status).toBe(sqlite.status);
}

describe('agov checkpoint show of a checkpoint that is not there', () => {
  it.each(['ckpt-20260101-000000-deadbeef', "x' OR '1'='1", ''])(
    'is one line on stderr, exit 2, the same on both engines: %j',
    async (id) => {
      const sqlite = await onSqlite(['checkpoint', 'show', id]);
      expect(sqlite.stderr).toBe(`agov: no checkpoint ${id}; see \`agov checkpoint list\`\n`);
      expect(sqlite.stdout).toBe('');
      expect(sqlite.status).toBe(2);
      expectSame(await onPostgres(['checkpoint', 'show', id]), sqlite);
    },
  );

  it('a database without a ledger is refused, and is not given one', async () => {
    const empty = await server.createDatabase();
    const r = await onPostgres(['checkpoint', 'list'], empty);
    expect(r.stderr).toMatch(
      /^agov: no ledger in the database at postgres:\/\/postgres@127\.0\.0\.1:\d+\/\w+; /,
    );
    expect(r.status).toBe(2);
    // Refused again: the first refusal did not migrate the database into an empty ledger.
    expect((await onPostgres(['checkpoint', 'list'], empty)).status).toBe(2);
  });
});

describe('agov checkpoint list and show on PostgreSQL', () => {
  it('list and show print what they print on SQLite', async () => {
    const list = await onSqlite(['checkpoint', 'list']);
    expect(list.stdout).toMatch(
      /^id +created +head seq +head hash\nckpt-\d{8}-\d{6}-[0-9a-f]{8} +\S+ +9 +[0-9a-f]{16}\n$/,
    );
    expectSame(await onPostgres(['checkpoint', 'list']), list);
    const id = /(ckpt-\S+)/.exec(list.stdout)![1]!;
    const show = await onSqlite(['checkpoint', 'show', id]);
    expect(JSON.parse(show.stdout)).toMatchObject({ checkpointId: id, headSeq: 9 });
    expectSame(await onPostgres(['checkpoint', 'show', id]), show);
  });

  it('a checkpoint created on PostgreSQL is listed first and shown with its state', async () => {
    const url = await server.createDatabase();
    const copy = await agovAsync(['ledger', 'copy', '--to', url], { LEDGER_PATH: sqliteLedger });
    expect(copy.status).toBe(0);
    const created = await onPostgres(['checkpoint', 'create'], url);
    expect(created.stderr).toBe('');
    const id = /^(ckpt-\S+) {2}head 11 [0-9a-f]{64}$/m.exec(created.stdout)![1]!;
    const list = await onPostgres(['checkpoint', 'list'], url);
    const rows = list.stdout.trim().split('\n').slice(1);
    expect(rows.map((r) => r.split(/ +/)[0])).toEqual([id, expect.not.stringMatching(id)]);
    expect(rows.map((r) => r.split(/ +/)[2])).toEqual(['11', '9']);
    const shown = JSON.parse((await onPostgres(['checkpoint', 'show', id], url)).stdout);
    expect(shown).toMatchObject({ checkpointId: id, headSeq: 11 });
    expect(Object.keys(shown.state.agents).sort()).toEqual(['docs-bot', 'infra-bot', 'test-bot']);
  });

  it('a ledger without checkpoints says so', async () => {
    const url = await server.createDatabase();
    await (await openPostgresLedger(url)).close();
    const r = await onPostgres(['checkpoint', 'list'], url);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('no checkpoints yet\n');
    expect(r.status).toBe(0);
  });
});
