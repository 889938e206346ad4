/**
 * `agov serve --read-only` on a PostgreSQL ledger (DATABASE_URL): its connections are read-only
 * (the database refuses any write through them), it migrates nothing, and webhooks, the agent API
 * and Slack are refused with 503 as on SQLite. Hostile first: deliveries and agent calls change no
 * row of any table; a write attempted through its own pool fails; a ledger it cannot read as it
 * is, or a URL that turns read-only off, is refused in one line. One private server for the file.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openRuntime } from '../../src/app/open-runtime.js';
import { type ReadOnlyService, startReadOnly } from '../../src/app/read-only.js';
import { readEnv } from '../../src/config/read-env.js';
import { createLogger } from '../../src/platform/logger.js';
import { AGOV, tempDir } from '../helpers/agov.js';
import { agentPullRequest, postWebhook } from '../helpers/github.js';
import { PrivatePostgres } from '../helpers/postgres-server.js';
import { psql } from '../ledger/pg-attacker.js';

let server: PrivatePostgres;
let service: ReadOnlyService | null = null;
beforeAll(async () => {
  server = await PrivatePostgres.start();
}, 60_000);
afterAll(async () => {
  await server?.stop();
});
afterEach(async () => {
  await service?.stop();
  service = null;
});
const quiet = createLogger('silent');

/** A ledger with infra-bot registered (its token returned), revoked, and a checkpoint. */
async function ledger(): Promise<{ url: string; token: string }> {
  const url = await server.createDatabase();
  const rt = await openRuntime(readEnv({ DATABASE_URL: url, LEDGER_PATH: join(tempDir(), 'ledger.db') }), {
    stateStore: 'memory',
  });
  const { token } = await rt.governance.registerAgent(
    { id: 'infra-bot', tier: 'T1', owner: 'alice' },
    'alice',
  );
  await rt.governance.registerAgent({ id: 'docs-bot', tier: 'T1', owner: 'alice' }, 'alice');
  await rt.governance.checkpoints.create();
  await rt.close();
  return { url, token };
}

/** Every table of the database with a hash of all its rows: any write changes one. */
async function fingerprint(url: string): Promise<Record<string, string>> {
  const tables = await psql<{ t: string }>(
    url,
    "SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename",
  );
  const out: Record<string, string> = {};
  for (const { t } of tables) {
    const [row] = await psql<{ n: string; h: string }>(
      url,
      `SELECT count(*) AS n, md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) AS h FROM ${t} AS x`,
    );
    out[t] = `${row!.n} ${row!.h}`;
  }
  return out;
}

function readOnlyEnv(url: string, dir = join(tempDir(), 'absent')) {
  return readEnv({ DATABASE_URL: url, LEDGER_PATH: join(dir, 'ledger.db'), PORT: '0', HOST: '127.0.0.1' });
}

describe('agov serve --read-only on PostgreSQL', () => {
  it('accepts nothing: webhooks, agent calls and Slack change no row, and no file is written', async () => {
    const { url, token } = await ledger();
    const before = await fingerprint(url);
    expect(Object.keys(before)).toEqual(expect.arrayContaining(['ledger_entries', 'inbox', 'outbox']));
    const dir = join(tempDir(), 'absent');
    service = await startReadOnly(readOnlyEnv(url, dir), quiet);
    expect(service.problem).toBeNull();
    const base = `http://127.0.0.1:${service.port}`;
    const pr = agentPullRequest('opened', { sha: 'e'.repeat(40), login: 'infra-bot[bot]' });
    expect((await postWebhook(service.port, 'pull_request', pr)).status).toBe(503);
    for (const path of ['/api/v1/preflight', '/api/v1/locks', '/slack/events', '/slack/actions']) {
      const res = await fetch(`${base}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: '{"action":"deploy","repository":"acme/web"}',
      });
      expect(res.status, path).toBe(503);
      expect(await res.json()).toMatchObject({ error: 'read_only' });
    }
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.text()).toContain('read-only for investigation: started with --read-only');
    await service.stop();
    service = null;
    expect(await fingerprint(url)).toEqual(before);
    // No signing key, safety journal or session secret beside LEDGER_PATH: its directory was not even made.
    expect(existsSync(dir)).toBe(false);
  });

  it('its own pool cannot write: an insert, an append and a registration are refused by the database', async () => {
    const { url } = await ledger();
    const before = await fingerprint(url);
    service = await startReadOnly(readOnlyEnv(url), quiet);
    const { store, governance } = service.runtime;
    const readOnly = /read-only transaction/;
    await expect(
      store.reader.run("INSERT INTO checkpoints SELECT * FROM checkpoints WHERE id = 'none'"),
    ).rejects.toThrow(readOnly);
    await expect(store.reader.run("UPDATE agent_metrics SET tier = 'T4'")).rejects.toThrow(readOnly);
    await expect(
      store.append({
        type: 'agent.token_rotated',
        agentId: 'docs-bot',
        actor: 'mallory',
        payload: { tokenHash: 'f'.repeat(64) },
      }),
    ).rejects.toThrow(readOnly);
    await expect(
      governance.registerAgent({ id: 'mallory-bot', tier: 'T4', owner: 'mallory' }, 'mallory'),
    ).rejects.toThrow(readOnly);
    await expect(governance.checkpoints.create()).rejects.toThrow(readOnly);
    // It reads: the checkpoint and both agents, from the ledger as it is.
    expect(await governance.checkpoints.list()).toHaveLength(1);
    expect((await governance.state.listAgents()).map((a) => a.id).sort()).toEqual(['docs-bot', 'infra-bot']);
    expect(await fingerprint(url)).toEqual(before);
  });

  it('says why a tampered ledger does not verify, and serves it without changing it', async () => {
    const { url } = await ledger();
    await psql(url, "UPDATE agent_metrics SET tier = 'T4' WHERE agent_id = 'infra-bot'");
    const before = await fingerprint(url);
    service = await startReadOnly(readOnlyEnv(url), quiet);
    expect(service.problem).toMatch(/agent_metrics row agent_id=infra-bot differs from the chain/);
    const ready = await fetch(`http://127.0.0.1:${service.port}/readyz`);
    expect(await ready.text()).toContain('read-only for investigation: the ledger does not verify');
    await service.stop();
    service = null;
    expect(await fingerprint(url)).toEqual(before);
  });

  it('refuses, in one line and changing nothing, what it cannot read as it is', async () => {
    const behind = (await ledger()).url;
    await psql(
      behind,
      'DELETE FROM schema_migrations WHERE version = (SELECT max(version) FROM schema_migrations)',
    );
    const empty = await server.createDatabase();
    const writable = `${(await ledger()).url}?options=-c%20default_transaction_read_only%3Doff`;
    const refusals: [string, RegExp][] = [
      [
        behind,
        /^the ledger at postgres:\/\/\S+ has schema version \d+, older than this build's \(\d+\), and --read-only migrates nothing; /,
      ],
      [empty, /^no ledger in the database at postgres:\/\/\S+; check --database or DATABASE_URL$/],
      [
        writable,
        /^the connections to postgres:\/\/\S+ are not read-only .*; remove that option for --read-only$/,
      ],
    ];
    for (const [url, message] of refusals) {
      const before = await fingerprint(url.replace(/\?.*/, ''));
      const error = await startReadOnly(readOnlyEnv(url), quiet).then(
        () => null,
        (e: Error) => e,
      );
      expect(error?.message).toMatch(message);
      expect(error?.message).not.toContain('\n');
      expect(await fingerprint(url.replace(/\?.*/, ''))).toEqual(before);
    }
  });

  it('agov serve --read-only starts on DATABASE_URL from the command line, and stops on SIGTERM', async () => {
    const { url } = await ledger();
    const before = await fingerprint(url);
    const child = spawn(process.execPath, [AGOV, 'serve', '--read-only'], {
      env: {
        PATH: process.env.PATH,
        DATABASE_URL: url,
        LEDGER_PATH: join(tempDir(), 'absent', 'ledger.db'),
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'info',
      },
    });
    let log = '';
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout.on('data', (d) => {
        log += d;
        const m = /listening read-only on http:\/\/127\.0\.0\.1:(\d+)/.exec(log);
        if (m) resolve(Number(m[1]));
      });
      child.once('exit', () => reject(new Error(`exited early: ${log}`)));
    });
    expect(log).toContain('read-only for investigation: started with --read-only');
    expect(log).not.toMatch(/password|\/\/postgres:/);
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(503);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(await fingerprint(url)).toEqual(before);
  });
});
