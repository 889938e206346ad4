import { spawn } from 'node:child_process';
/**
 * A ledger that does not verify stops `serve`; `serve --read-only` lets people look through the
 * service without anything being accepted, sent or written (issue 12, item 13).
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type ReadOnlyService, startReadOnly } from '../../src/app/read-only.js';
import { startService } from '../../src/app/service.js';
import { readEnv } from '../../src/config/read-env.js';
import { createLogger } from '../../src/platform/logger.js';
import { AGOV, tempDir } from '../helpers/agov.js';
import { testRuntime } from '../helpers/runtime.js';
import { shell } from '../ledger/attacker.js';

let service: ReadOnlyService | null = null;
afterEach(async () => {
  await service?.stop();
  service = null;
});
const quiet = createLogger('silent');

/** A revoked agent and a checkpoint; then an attacker makes it active at T4 in the projections. */
async function tamperedLedger(): Promise<string> {
  const ledger = join(tempDir(), 'ledger.db');
  const rt = await testRuntime({ ledgerPath: ledger });
  await rt.governance.registerAgent({ id: 'infra-bot', tier: 'T1', owner: 'alice' }, 'alice');
  await rt.governance.record([
    {
      type: 'agent.status_changed',
      agentId: 'infra-bot',
      actor: 'carol',
      payload: { from: 'active', to: 'revoked', reason: 'leaked a key' },
    },
  ]);
  rt.checkpoints!.create();
  await rt.close();
  shell(ledger, "UPDATE agent_metrics SET status = 'active', tier = 'T4' WHERE agent_id = 'infra-bot';");
  return ledger;
}

/** Every file beside the ledger, with a hash of its bytes. */
function filesBeside(ledger: string): Record<string, string> {
  const dir = dirname(ledger);
  return Object.fromEntries(
    readdirSync(dir).map((f) => [
      f,
      createHash('sha256')
        .update(readFileSync(join(dir, f)))
        .digest('hex'),
    ]),
  );
}

describe('a ledger that does not verify', () => {
  it('stops serve, which says how to look read-only', async () => {
    const ledger = await tamperedLedger();
    await expect(startService(readEnv({ LEDGER_PATH: ledger, PORT: '0' }), quiet)).rejects.toMatchObject({
      code: 'ledger_tampered',
      message: expect.stringContaining('`agov serve --read-only`'),
    });
  });

  it('serve --read-only answers health and refuses every write with 503 read_only, and changes no file', async () => {
    const ledger = await tamperedLedger();
    const before = filesBeside(ledger);
    // Web sign-in configured without a session secret: a normal start would write one beside the ledger.
    const web = { GITHUB_CLIENT_ID: 'Iv1.test', GITHUB_CLIENT_SECRET: 'test-client-secret' };
    service = await startReadOnly(
      readEnv({ LEDGER_PATH: ledger, PORT: '0', HOST: '127.0.0.1', ...web }),
      quiet,
    );
    expect(service.problem).toMatch(/agent_metrics row agent_id=infra-bot differs from the chain/);
    const base = `http://127.0.0.1:${service.port}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.text()).toContain('read-only for investigation: the ledger does not verify');
    for (const path of ['/api/v1/preflight', '/api/github/webhooks', '/slack/events']) {
      const res = await fetch(`${base}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer agov_infra-bot_x' },
        body: '{"action":"deploy","repository":"acme/web"}',
      });
      expect(res.status, path).toBe(503);
      expect(await res.json()).toMatchObject({ error: 'read_only' });
    }
    await service.stop();
    service = null;
    // Not the ledger, its WAL, a signing key, a session secret, a safety journal: nothing was written.
    expect(filesBeside(ledger)).toEqual(before);
    expect(existsSync(`${ledger}.safety-journal`)).toBe(false);
  });

  it('agov serve --read-only starts on it from the command line, and stops on SIGTERM', async () => {
    const ledger = await tamperedLedger();
    const child = spawn(process.execPath, [AGOV, 'serve', '--read-only'], {
      env: { PATH: process.env.PATH, LEDGER_PATH: ledger, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info' },
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
    expect(log).toContain('read-only for investigation: the ledger does not verify');
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(503);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
