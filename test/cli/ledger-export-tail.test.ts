import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { AGOV, agov, tempDir } from '../helpers/agov.js';
import { testRuntime } from '../helpers/runtime.js';

it('exports the ledger as JSON Lines that chain together', async () => {
  const rt = await testRuntime();
  for (const id of ['a-bot', 'b-bot', 'c-bot'])
    await rt.governance.registerAgent({ id, tier: 'T1' }, 'alice');
  await rt.close();
  const out = join(tempDir(), 'ledger.jsonl');
  const r = agov(['ledger', 'export', '--out', out], { LEDGER_PATH: rt.env.LEDGER_PATH });
  expect(r.status).toBe(0);
  expect(r.stderr).toMatch(/exported 3 entries/);
  const lines = readFileSync(out, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  expect(lines.map((e) => [e.seq, e.type, e.agentId])).toEqual([
    [1, 'agent.registered', 'a-bot'],
    [2, 'agent.registered', 'b-bot'],
    [3, 'agent.registered', 'c-bot'],
  ]);
  expect(lines[1].prevHash).toBe(lines[0].hash);
  const after = agov(['ledger', 'export', '--after', '2'], { LEDGER_PATH: rt.env.LEDGER_PATH });
  expect(
    after.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).seq),
  ).toEqual([3]);
});

it('tail prints the newest entries and follows new ones as they are appended', async () => {
  const rt = await testRuntime();
  await rt.governance.registerAgent({ id: 'first-bot', tier: 'T1' }, 'alice');
  const child = spawn(process.execPath, [AGOV, 'ledger', 'tail', '--interval', '50'], {
    env: { PATH: process.env.PATH, LEDGER_PATH: rt.env.LEDGER_PATH },
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  try {
    await expect.poll(() => out, { timeout: 5000 }).toMatch(/first-bot/);
    await rt.governance.registerAgent({ id: 'second-bot', tier: 'T2' }, 'alice');
    await expect.poll(() => out, { timeout: 5000 }).toMatch(/second-bot/);
    expect(
      out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).seq),
    ).toEqual([1, 2]);
  } finally {
    child.kill('SIGTERM');
    await rt.close();
  }
});
