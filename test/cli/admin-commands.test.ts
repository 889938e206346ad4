import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { agov, tempDir } from '../helpers/agov.js';
import { testRuntime } from '../helpers/runtime.js';

async function setup() {
  const dir = tempDir();
  const config = join(dir, 'org.yml');
  writeFileSync(
    config,
    'approvers: [{ github: alice }, { github: bob }]\npromotion: { thresholds: { T2: { min_merged_prs: 0, min_days_at_tier: 0, clean_days: 0 } } }\n',
  );
  const rt = await testRuntime({ ledgerPath: join(dir, 'ledger.db'), config });
  await rt.governance.registerAgent({ id: 'docs-bot', tier: 'T1', owner: 'olivia' }, 'admin');
  await rt.close();
  return { LEDGER_PATH: join(dir, 'ledger.db'), GOVERNANCE_CONFIG: config };
}

it('promotes through a request and an approval, and refuses what the rules forbid', async () => {
  const env = await setup();
  const requested = agov(['agents', 'promote', 'docs-bot', '--actor', 'bob'], env);
  expect(requested.stderr).toBe('');
  expect(requested.stdout).toMatch(
    /^promo-docs-bot-\d+: promotion of docs-bot T1 → T2, pending \(needs 1 approval\(s\)\)$/m,
  );
  const id = /^(promo-docs-bot-\d+)/m.exec(requested.stdout)![1]!;
  const self = agov(['promotions', 'approve', id, '--as', 'bob'], env);
  expect(self.status).toBe(2);
  expect(self.stderr.trim()).toBe(`agov: bob cannot approve ${id}: nobody approves their own request`);
  const ok = agov(['promotions', 'approve', id, '--as', 'alice'], env);
  expect(ok.stdout.trim()).toBe(`${id}: promotion of docs-bot T1 → T2, applied; approved by alice`);
  expect(agov(['agents', 'show', 'docs-bot'], env).stdout).toMatch(/tier:\s+T2 builder/);
  expect(agov(['promotions', 'list'], env).stdout).toContain(`${id}: promotion of docs-bot T1 → T2, applied`);
});

it('revokes with a dry run first, then for real, and shows whether the revocation is confirmed', async () => {
  const env = await setup();
  const dry = agov(['agents', 'revoke', 'docs-bot', '--reason', 'leaked a key', '--dry-run'], env);
  expect(dry.stdout).toMatch(
    /^would revoke docs-bot \(rev-docs-bot-\d+\); effects:\n {2}revoke_signal: planned$/m,
  );
  expect(agov(['agents', 'show', 'docs-bot'], env).stdout).toMatch(/status:\s+active/);
  const real = agov(['agents', 'revoke', 'docs-bot', '--reason', 'leaked a key'], env);
  expect(real.stdout).toMatch(/^revoked docs-bot \(rev-docs-bot-\d+\); effects:\n {2}revoke_signal: held$/m);
  const shown = agov(['agents', 'show', 'docs-bot'], env).stdout;
  expect(shown).toMatch(/status:\s+revoked \(revoked: leaked a key\)/);
  expect(shown).toMatch(/revocation: rev-docs-bot-\d+ confirmed \(revoke_signal held\)/);
  const again = agov(['agents', 'revoke', 'docs-bot', '--reason', 'x'], env);
  expect(again.status).toBe(2);
  expect(again.stderr.trim()).toBe('agov: docs-bot is already revoked; see `agov agents show docs-bot`');
  expect(agov(['agents', 'revoke', 'docs-bot'], env).status).toBe(2);
});

it('Vault commands say when Vault is not configured', () => {
  const r = agov(['vault', 'status']);
  expect(r.status).toBe(2);
  expect(r.stderr.trim()).toBe(
    'agov: Vault is not configured: set VAULT_ADDR and VAULT_TOKEN (or VAULT_ROLE_ID and VAULT_SECRET_ID)',
  );
});
