import { existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { agov, tempDir } from '../helpers/agov.js';
import { testRuntime } from '../helpers/runtime.js';

const mode = (path: string) => statSync(path).mode & 0o777;
let umask: number;
// The most permissive umask there is: the modes must not depend on it.
beforeEach(() => {
  umask = process.umask(0o000);
});
afterEach(() => {
  process.umask(umask);
});

it('creates the ledger database, its -wal and -shm, and the signing key mode 0600 whatever the umask', async () => {
  const dir = tempDir();
  const rt = await testRuntime({ ledgerPath: join(dir, 'ledger.db') });
  await rt.governance.registerAgent({ id: 'mode-bot', tier: 'T1' }, 'admin');
  rt.checkpoints!.create();
  const files = ['ledger.db', 'ledger.db-wal', 'ledger.db-shm', 'ledger-signing-key.pem'].map((f) =>
    join(dir, f),
  );
  for (const f of files) expect(existsSync(f), f).toBe(true);
  expect(Object.fromEntries(files.map((f) => [f.slice(dir.length + 1), mode(f).toString(8)]))).toEqual({
    'ledger.db': '600',
    'ledger.db-wal': '600',
    'ledger.db-shm': '600',
    'ledger-signing-key.pem': '600',
  });
  await rt.close();
});

it('writes `agov ledger export --out` mode 0600, also over a file that was readable by others', async () => {
  const dir = tempDir();
  const rt = await testRuntime({ ledgerPath: join(dir, 'ledger.db') });
  await rt.governance.registerAgent({ id: 'mode-bot', tier: 'T1' }, 'admin');
  await rt.close();
  const fresh = join(dir, 'export.jsonl');
  expect(agov(['ledger', 'export', '--out', fresh], { LEDGER_PATH: join(dir, 'ledger.db') }).status).toBe(0);
  expect(mode(fresh).toString(8)).toBe('600');
  const old = join(dir, 'old-export.jsonl');
  writeFileSync(old, 'stale', { mode: 0o644 });
  expect(agov(['ledger', 'export', '--out', old], { LEDGER_PATH: join(dir, 'ledger.db') }).status).toBe(0);
  expect(mode(old).toString(8)).toBe('600');
});
