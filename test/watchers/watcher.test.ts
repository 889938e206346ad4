import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { Watcher } from '../../src/watchers/watcher.js';
import { agov, tempDir } from '../helpers/agov.js';
import { testRuntime } from '../helpers/runtime.js';

it('raises a finding once while it holds, sends it to Slack, and resolves it when it clears', async () => {
  const config = join(tempDir(), 'org.yml');
  writeFileSync(config, 'slack: { findings_channel: C0FINDINGS }\n');
  const rt = await testRuntime({ config });
  const g = rt.governance;
  await g.registerAgent({ id: 'flaky-bot', tier: 'T2' }, 'admin');
  for (const sha of ['a1', 'a2', 'a3']) {
    await g.recordViolation(
      'flaky-bot',
      { type: 'ci_failure', details: 'red' },
      `ci:acme/web#4@${sha}`,
      'github',
    );
  }
  const watcher = new Watcher(g);
  expect(watcher.run().map((f) => f.key)).toEqual(['repeated_ci_failure:flaky-bot:acme/web#4']);
  expect(watcher.run()).toEqual([]);
  expect(rt.ledger.outbox.dueFor('slack').map((m) => m.payload)).toEqual([
    { channel: 'C0FINDINGS', text: ':mag: flaky-bot failed CI 3 times on acme/web#4 in 24 h' },
  ]);
  expect(watcher.run(new Date(Date.now() + 25 * 3600_000))).toEqual([]);
  expect(watcher.openFindings()).toEqual([]);
  const entries = rt.ledger.db
    .prepare("SELECT type FROM ledger_entries WHERE type LIKE 'finding.%' ORDER BY seq")
    .all();
  expect(entries).toEqual([{ type: 'finding.raised' }, { type: 'finding.resolved' }]);
  await rt.close();

  const r = agov(['suggest'], { LEDGER_PATH: rt.env.LEDGER_PATH, GOVERNANCE_CONFIG: config });
  expect(r.status).toBe(0);
  expect(r.stdout).toContain('- rule secrets never fires: never fired in the window');
});
