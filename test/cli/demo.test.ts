import { expect, it } from 'vitest';
import { agovAsync } from '../helpers/agov.js';

it('agov demo plays the story on embedded defaults and ends with the ledger verified', async () => {
  const r = await agovAsync(['demo']);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(r.stdout).toContain('GitHub  ✅ Agent Governance — success: Allowed: every rule passed');
  expect(r.stdout).toContain(
    'GitHub  ✋ Agent Governance — action_required: Needs approval: gate `protected` needs 1 more approval(s) from alice',
  );
  expect(r.stdout).toContain('GitHub  ✅ Agent Governance — success: Approved by alice');
  expect(r.stdout).toMatch(/GitHub {2}❌ Agent Governance — failure: Denied: secret\(s\) in added lines/);
  expect(r.stdout).toMatch(/the agent's next preflight → deny: revocation: /);
  expect(r.stdout).toMatch(/ok: \d+ entries checked, chain intact\s*$/);
});
