import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { agov, tempDir } from './agov.js';
import { testRuntime } from './runtime.js';

/**
 * A history that fills every projection table, a checkpoint (which pins the signing key at entry
 * 9) and two entries after it. Entries: 1-3 registrations, 4 a violation of test-bot, 5 infra-bot
 * revoked, 6 a decision, 7 an approval, 8 docs-bot promoted to T2, 9 the key pin, 10 a token
 * rotation, 11 a merged PR.
 */
export async function seedHistory() {
  const ledger = join(tempDir(), 'ledger.db');
  const env = { LEDGER_PATH: ledger };
  let rt = await testRuntime({ ledgerPath: ledger });
  for (const id of ['docs-bot', 'test-bot', 'infra-bot'])
    await rt.governance.registerAgent({ id, tier: 'T1', owner: 'alice' }, 'alice');
  const pr = { repository: 'acme/web', number: 7, headSha: 'a'.repeat(40) };
  await rt.governance.record([
    {
      type: 'violation.recorded',
      agentId: 'test-bot',
      actor: 'github',
      payload: {
        violation: 'diff_size_exceeded',
        severity: 'medium',
        consequence: 'charge_budget',
        budgetCharge: 5,
        details: '900 lines',
        source: 'github',
      },
    },
    {
      type: 'agent.status_changed',
      agentId: 'infra-bot',
      actor: 'carol',
      payload: { from: 'active', to: 'revoked', reason: 'leaked a key' },
    },
    {
      type: 'decision.recorded',
      agentId: 'docs-bot',
      actor: 'github',
      payload: {
        ...pr,
        outcome: 'deny',
        summary: 'touches a protected path',
        tier: 'T1',
        policyVersion: 'p1',
        diffHash: 'd1',
        trigger: 'pull_request.opened',
        rules: [],
      },
    },
    {
      type: 'approval.recorded',
      agentId: 'docs-bot',
      actor: 'alice',
      payload: {
        ...pr,
        approver: 'alice',
        verdict: 'approve',
        gate: 'review',
        diffHash: 'd1',
        policyVersion: 'p1',
        source: 'slack',
      },
    },
    {
      type: 'agent.tier_changed',
      agentId: 'docs-bot',
      actor: 'alice',
      payload: { from: 'T1', to: 'T2', reason: 'earned it', kind: 'promotion' },
    },
  ]);
  await rt.close();
  expect(agov(['checkpoint', 'create'], env).status).toBe(0);
  rt = await testRuntime({ ledgerPath: ledger });
  await rt.governance.rotateToken('docs-bot', 'alice');
  await rt.governance.record([
    { type: 'pr.merged', agentId: 'docs-bot', actor: 'github', payload: { ...pr, tier: 'T2' } },
  ]);
  await rt.close();
  const head = agov(['ledger', 'head', '--public-key'], env);
  expect(head.status).toBe(0);
  const publicKeyFile = join(tempDir(), 'ledger-public-key.pem');
  writeFileSync(publicKeyFile, head.stdout);
  return { ledger, env, publicKeyFile };
}
