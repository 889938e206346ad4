/**
 * `agov ledger copy --to postgres://…`, run as a user runs it, against a private PostgreSQL.
 * Hostile first: a non-empty target, a bad URL, an unreachable server, a source that fails verify,
 * a password that must never be printed.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { freePort } from '../../src/chaos/private-redis.js';
import { openPostgresLedger } from '../../src/ledger/postgres/postgres-ledger.js';
import { agovAsync, sqlite, tempDir } from '../helpers/agov.js';
import { PrivatePostgres } from '../helpers/postgres-server.js';
import { testRuntime } from '../helpers/runtime.js';

let server: PrivatePostgres;
beforeAll(async () => {
  server = await PrivatePostgres.start();
});
afterAll(async () => {
  await server?.stop();
});

/** A ledger of 6 entries: 3 agents, each registered and its token rotated. */
async function seedLedger(): Promise<string> {
  const ledger = join(tempDir(), 'ledger.db');
  const rt = await testRuntime({ ledgerPath: ledger });
  for (const id of ['docs-bot', 'test-bot', 'infra-bot']) {
    await rt.governance.registerAgent({ id, tier: 'T1', owner: 'alice' }, 'test');
    await rt.governance.rotateToken(id, 'test');
  }
  await rt.close();
  return ledger;
}

async function query(url: string, sql: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}

const headOf = (text: string) => /head both sides agree on: (\d+) ([0-9a-f]{64})/.exec(text);

describe('agov ledger copy', () => {
  let ledger: string;
  let target: string;
  beforeEach(async () => {
    ledger = await seedLedger();
    target = await server.createDatabase();
  });

  it('refuses a target that already holds a ledger, and leaves it as it was', async () => {
    expect((await agovAsync(['ledger', 'copy', '--to', target], { LEDGER_PATH: ledger })).status).toBe(0);
    const again = await agovAsync(['--ledger', ledger, 'ledger', 'copy', '--to', target]);
    expect(again.status).not.toBe(0);
    expect(again.stderr).toMatch(/already holds 6 entries; copy only into an empty one/);
    expect(again.stderr).not.toMatch(/\n\s+at /);
    expect((await query(target, 'SELECT count(*)::int AS n FROM ledger_entries')).rows[0].n).toBe(6);
  });

  it('refuses a target whose ledger lost its head row, in one line, without a stack trace', async () => {
    // A target migrated by this build (a first copy), then emptied and its head row deleted by hand.
    expect((await agovAsync(['ledger', 'copy', '--to', target], { LEDGER_PATH: ledger })).status).toBe(0);
    await query(target, 'ALTER TABLE ledger_entries DISABLE TRIGGER USER');
    await query(target, 'DELETE FROM ledger_entries');
    await query(target, 'DELETE FROM ledger_head');
    const copy = await agovAsync(['--ledger', ledger, 'ledger', 'copy', '--to', target]);
    expect(copy.status).toBe(2);
    expect(copy.stderr).toMatch(/has no head row \(ledger_head\)/);
    expect(copy.stderr).not.toMatch(/\n\s+at |unexpected error/);
  });

  it('refuses a target with a trigger of someone else on the chain before copying a single entry', async () => {
    // An empty ledger migrated by this build, then a trigger that keeps a copy of every payload.
    await (await openPostgresLedger(target)).close();
    await query(
      target,
      `CREATE TABLE stolen (payload text);
       CREATE FUNCTION keep() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO stolen VALUES (NEW.payload); RETURN NEW; END $$;
       CREATE TRIGGER zz AFTER INSERT ON ledger_entries FOR EACH ROW EXECUTE FUNCTION keep();`,
    );
    const copy = await agovAsync(['--ledger', ledger, 'ledger', 'copy', '--to', target]);
    expect(copy.status).toBe(2);
    expect(copy.stderr).toMatch(
      /first bad schema object: zz: the trigger zz on ledger_entries is not one this build creates.*nothing was copied/,
    );
    expect((await query(target, 'SELECT count(*)::int AS n FROM stolen')).rows[0].n).toBe(0);
    expect((await query(target, 'SELECT count(*)::int AS n FROM ledger_entries')).rows[0].n).toBe(0);
  });

  it('never prints the password of the URL, whatever happens', async () => {
    await query(server.url, "CREATE ROLE copier LOGIN PASSWORD 's3cret-pw' SUPERUSER");
    const withPassword = target.replace('postgres@', 'copier:s3cret-pw@');
    const ok = await agovAsync(['ledger', 'copy', '--to', withPassword], { LEDGER_PATH: ledger });
    expect(ok.status).toBe(0);
    const refused = await agovAsync(['ledger', 'copy', '--to', withPassword], { LEDGER_PATH: ledger });
    const port = await freePort();
    const unreachable = await agovAsync(
      ['ledger', 'copy', '--to', `postgres://copier:s3cret-pw@127.0.0.1:${port}/x`],
      {
        LEDGER_PATH: ledger,
      },
    );
    for (const r of [ok, refused, unreachable]) expect(r.stdout + r.stderr).not.toContain('s3cret-pw');
    expect(ok.stdout).toContain(`copied 6 entries to postgres://copier@127.0.0.1:${server.port}/`);
  });

  it('refuses a URL that is not PostgreSQL, and an unreachable server, without a stack trace', async () => {
    for (const bad of ['mysql://root@127.0.0.1/db', 'not a url', 'postgres://']) {
      const r = await agovAsync(['ledger', 'copy', '--to', bad], { LEDGER_PATH: ledger });
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/^agov: (not a PostgreSQL URL|the PostgreSQL URL names no host)/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    const port = await freePort();
    const r = await agovAsync(['ledger', 'copy', '--to', `postgres://postgres@127.0.0.1:${port}/agov`], {
      LEDGER_PATH: ledger,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      new RegExp(
        `^agov: cannot connect to PostgreSQL at postgres://postgres@127.0.0.1:${port}/agov: .*ECONNREFUSED`,
      ),
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('refuses a source that does not verify, copying nothing', async () => {
    sqlite(
      ledger,
      "DROP TRIGGER ledger_entries_no_update; UPDATE ledger_entries SET payload = replace(payload, 'alice', 'alicf') WHERE seq = 3;",
    );
    const r = await agovAsync(['ledger', 'copy', '--to', target], { LEDGER_PATH: ledger });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      /does not verify \(first bad sequence 3: entry 3 was changed after it was written\); nothing was copied/,
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect((await query(target, 'SELECT count(*)::int AS n FROM ledger_entries')).rows[0].n).toBe(0);
  });

  it('refuses a source whose projections were edited behind its chain, copying nothing', async () => {
    sqlite(ledger, "UPDATE agent_metrics SET tier = 'T4' WHERE agent_id = 'test-bot';");
    const r = await agovAsync(['ledger', 'copy', '--to', target], { LEDGER_PATH: ledger });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      /does not verify \(first bad sequence 0: agent_metrics row agent_id=test-bot differs from the chain: tier is "T4", the chain says "T1"\); nothing was copied/,
    );
    expect((await query(target, 'SELECT count(*)::int AS n FROM agent_metrics')).rows[0].n).toBe(0);
  });

  it('rebuilds the projections on arrival from the chain: the same rows, and the target verifies with them', async () => {
    const r = await agovAsync(['ledger', 'copy', '--to', target], { LEDGER_PATH: ledger });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(
      /rebuilt its projections from the chain there; chain and projections verify there/,
    );
    const columns = 'agent_id, tier, status, registered_at, tier_since, token_hash, violations_total';
    const db = new Database(ledger, { readonly: true });
    const source = db.prepare(`SELECT ${columns} FROM agent_metrics ORDER BY agent_id`).all();
    db.close();
    const copied = await query(target, `SELECT ${columns} FROM agent_metrics ORDER BY agent_id COLLATE "C"`);
    expect(copied.rows).toEqual(source);
    expect(copied.rows).toHaveLength(3);
    const actions = await query(target, 'SELECT count(*)::int AS n FROM agent_actions');
    expect(actions.rows[0].n).toBe(6);
    const opened = await openPostgresLedger(target);
    try {
      expect(await opened.verify()).toMatchObject({
        ok: true,
        checked: 6,
        tables: expect.arrayContaining(['agent_metrics']),
      });
    } finally {
      await opened.close();
    }
  });

  it('copies the chain with its hashes; both sides verify to the same head', async () => {
    const r = await agovAsync(['ledger', 'copy', '--to', target], { LEDGER_PATH: ledger });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^source .*ledger\.db: 6 entries verified$/m);
    const head = headOf(r.stdout)!;
    expect(head[1]).toBe('6');
    const verify = await agovAsync(['ledger', 'verify'], { LEDGER_PATH: ledger });
    expect(verify.stdout).toContain(`head 6 ${head[2]}`);
    const copied = await query(target, 'SELECT seq, hash FROM ledger_entries ORDER BY seq DESC LIMIT 1');
    expect(copied.rows[0]).toEqual({ seq: '6', hash: head[2] });
    const source = sqlite(
      ledger,
      'SELECT group_concat(hash) FROM (SELECT hash FROM ledger_entries ORDER BY seq);',
    );
    const target_ = await query(target, "SELECT string_agg(hash, ',' ORDER BY seq) AS h FROM ledger_entries");
    expect(target_.rows[0].h).toBe(source.stdout.trim());
  });
});
