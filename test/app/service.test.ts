import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { type RunningService, startService } from '../../src/app/service.js';
import { readEnv } from '../../src/config/read-env.js';
import { createLogger } from '../../src/platform/logger.js';
import { agovAsync, tempDir } from '../helpers/agov.js';

let service: RunningService | null = null;
afterEach(async () => {
  await service?.stop();
  service = null;
});

function captureLogs() {
  const lines: string[] = [];
  const stream = { write: (line: string) => lines.push(line) } as unknown as NodeJS.WritableStream;
  return {
    logger: createLogger('info', stream),
    messages: () => lines.map((l) => JSON.parse(l).msg as string),
  };
}

it('starts on the embedded defaults alone, says what is not configured, and answers health checks', async () => {
  const logs = captureLogs();
  service = await startService(
    readEnv({ LEDGER_PATH: join(tempDir(), 'data', 'ledger.db'), PORT: '0' }),
    logs.logger,
  );
  const base = `http://127.0.0.1:${service.port}`;
  expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: 'ok' });
  const ready = await fetch(`${base}/readyz`);
  expect(ready.status).toBe(200);
  expect(await ready.json()).toMatchObject({
    status: 'ready',
    dependencies: {
      ledger: { state: 'up' },
      state_store: { state: 'up', breaker: 'closed' },
      github: { state: 'off' },
    },
  });
  const messages = logs.messages();
  expect(messages).toContain(
    'GitHub App: not configured (set APP_ID, PRIVATE_KEY or PRIVATE_KEY_PATH, and WEBHOOK_SECRET; GHE_HOST for GitHub Enterprise Server)',
  );
  expect(messages).toContain(
    'Slack: not configured (set SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN; SLACK_APP_TOKEN for Socket Mode)',
  );
  expect(messages.some((m) => m.startsWith('Vault: off (set VAULT_ADDR'))).toBe(true);
  expect(messages.some((m) => m.startsWith('state store: in-process'))).toBe(true);
  expect((await fetch(`${base}/nope`)).status).toBe(404);
});

it('follows agents registered by the CLI while it runs, and registers those the config declares', async () => {
  const dir = tempDir();
  const ledgerPath = join(dir, 'ledger.db');
  const config = join(dir, 'agent-governance.yml');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(config, 'agents:\n  - id: config-bot\n    tier: T2\n    owner: alice\n');
  service = await startService(
    readEnv({ LEDGER_PATH: ledgerPath, PORT: '0', GOVERNANCE_CONFIG: config }),
    captureLogs().logger,
  );
  expect(await service.runtime.state.getAgent('config-bot')).toMatchObject({ tier: 'T2', owner: 'alice' });

  const r = await agovAsync(['agents', 'add', 'cli-bot', '--tier', 'T1'], { LEDGER_PATH: ledgerPath });
  expect(r.status).toBe(0);
  await expect
    .poll(() => service!.runtime.state.getAgent('cli-bot'), { timeout: 5000 })
    .toMatchObject({ tier: 'T1' });
});
