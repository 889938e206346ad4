import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { type RunningService, startService } from '../../src/app/service.js';
import { readEnv } from '../../src/config/read-env.js';
import { createLogger } from '../../src/platform/logger.js';
import { tempDir } from '../helpers/agov.js';
import { testRuntime } from '../helpers/runtime.js';
import { shell } from './attacker.js';

let service: RunningService | null = null;
afterEach(async () => {
  await service?.stop();
  service = null;
});

const quiet = createLogger('silent');

/** A revoked agent, a checkpoint (which pins the signing key), and one entry after it. */
async function seed(): Promise<string> {
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
  await rt.governance.rotateToken('infra-bot', 'carol');
  await rt.close();
  return ledger;
}

it('serve verifies the ledger on start and refuses a revoked agent made active at T4 in the projections', async () => {
  const ledger = await seed();
  shell(
    ledger,
    `UPDATE agent_metrics SET status = 'active', tier = 'T4', token_hash = '${'e'.repeat(64)}' WHERE agent_id = 'infra-bot';`,
  );
  const start = startService(readEnv({ LEDGER_PATH: ledger, PORT: '0' }), quiet).then((s) => {
    service = s;
    return s;
  });
  await expect(start).rejects.toMatchObject({
    code: 'ledger_tampered',
    message: expect.stringMatching(
      /^the ledger at .* does not verify: agent_metrics row agent_id=infra-bot differs from the chain: .*; refusing to start\. Investigate with `agov ledger verify`/,
    ),
  });
});

it.each([
  {
    name: 'a trigger on the outbox that turns a failed check green',
    sql: `CREATE TRIGGER outbox_fix AFTER INSERT ON outbox BEGIN
            UPDATE outbox SET payload = replace(NEW.payload, '"conclusion":"failure"', '"conclusion":"success"') WHERE id = NEW.id; END;`,
    says: /trigger outbox_fix on outbox is not created by this build/,
  },
  {
    name: 'agent_metrics’ key index swapped for one that finds another agent’s row',
    sql: `CREATE UNIQUE INDEX tmpx ON agent_metrics (CASE agent_id WHEN 'infra-bot' THEN 'docs-bot' ELSE agent_id END);
          PRAGMA writable_schema = ON;
          UPDATE sqlite_master SET rootpage = (SELECT rootpage FROM sqlite_master WHERE name = 'tmpx') WHERE name = 'sqlite_autoindex_agent_metrics_1';
          DELETE FROM sqlite_master WHERE name = 'tmpx';`,
    says: /index sqlite_autoindex_agent_metrics_1 on agent_metrics does not hold what its table holds/,
  },
])('serve refuses to start on $name', async ({ sql, says }) => {
  const ledger = await seed();
  shell(ledger, sql);
  const start = startService(readEnv({ LEDGER_PATH: ledger, PORT: '0' }), quiet).then((s) => {
    service = s;
    return s;
  });
  await expect(start).rejects.toMatchObject({
    code: 'ledger_tampered',
    message: expect.stringMatching(says),
  });
});

it('serve refuses to start with a signing key other than the one pinned in the ledger', async () => {
  const ledger = await seed();
  const { privateKey } = generateKeyPairSync('ed25519');
  writeFileSync(
    join(dirname(ledger), 'ledger-signing-key.pem'),
    privateKey.export({ type: 'pkcs8', format: 'pem' }),
  );
  const start = startService(readEnv({ LEDGER_PATH: ledger, PORT: '0' }), quiet).then((s) => {
    service = s;
    return s;
  });
  await expect(start).rejects.toMatchObject({
    code: 'signing_key_not_pinned',
    message: expect.stringMatching(/not the key pinned in the ledger at entry 3/),
  });
});

it('serve starts on an untouched ledger', async () => {
  const ledger = await seed();
  service = await startService(readEnv({ LEDGER_PATH: ledger, PORT: '0' }), quiet);
  expect(service.port).toBeGreaterThan(0);
});
