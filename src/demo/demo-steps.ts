import { sqliteOf } from '../app/open-runtime.js';
import { AgentClient } from '../client/index.js';
import { verifyLedger } from '../ledger/verify.js';
import { DEMO_SLACK_SECRET, type DemoWorld } from './demo-world.js';
import { clickApprove } from './stand-in-requests.js';

/** The story's steps, each printing what people would see. */

export async function registerAgent(w: DemoWorld): Promise<AgentClient> {
  w.print('1. An admin registers an agent at T1 operator.');
  w.print('   $ agov agents add docs-bot --tier T1 --owner olivia --github-login "docs-bot[bot]"');
  const { token } = await w.service.runtime.governance.registerAgent(
    { id: 'docs-bot', tier: 'T1', owner: 'olivia', identities: { githubLogins: ['docs-bot[bot]'] } },
    'admin',
  );
  const agent = new AgentClient({ baseUrl: w.base, token });
  w.print(
    `   the agent asks first: preflight open_pr on acme/web docs/ → ${(await agent.preflight({ action: 'open_pr', repository: 'acme/web', paths: ['docs/guide.md'] })).decision}\n`,
  );
  return agent;
}

export async function openDocsChange(w: DemoWorld): Promise<void> {
  w.print('2. docs-bot opens PR #1, a change to docs/guide.md.');
  w.github.pulls.set(1, {
    number: 1,
    title: 'Clarify the install guide',
    author: 'docs-bot[bot]',
    headSha: '1'.repeat(40),
    files: [{ filename: 'docs/guide.md', patch: '@@ -1 +1,2 @@\n # Guide\n+Run npm ci first.' }],
  });
  await w.deliver(1);
  w.print('');
}

export async function openProtectedChange(w: DemoWorld): Promise<void> {
  w.print('3. docs-bot opens PR #2, touching docs/legal/, a protected path: it waits for a person.');
  w.github.pulls.set(2, {
    number: 2,
    title: 'Update the terms',
    author: 'docs-bot[bot]',
    headSha: '2'.repeat(40),
    files: [{ filename: 'docs/legal/terms.md', patch: '@@ -1 +1,2 @@\n # Terms\n+New clause.' }],
  });
  const mark = w.slack.calls.length;
  await w.deliver(2);
  for (const c of w.slack.calls.slice(mark).filter((c) => c.method === 'chat.postMessage'))
    w.print(`   Slack   #approvals: ${c.args.text} [Approve] [Reject]`);
  w.print('');
}

export async function approveInSlack(w: DemoWorld): Promise<void> {
  w.print('4. alice clicks Approve in Slack.');
  const mark = w.slack.calls.length;
  await clickApprove(w.base, DEMO_SLACK_SECRET, 'UALICE', `acme/web#2@${'2'.repeat(40)}`);
  await w.settle();
  if (w.slack.calls.slice(mark).some((c) => c.method === 'chat.update'))
    w.print('   Slack   the request now reads: ✅ alice — Approved (buttons gone)');
  const check2 = w.github.checkOn('2'.repeat(40))!;
  w.print(`   GitHub  ✅ Agent Governance — ${check2.conclusion}: ${check2.title}\n`);
}

export async function leakAKey(w: DemoWorld, agent: AgentClient): Promise<void> {
  w.print('5. docs-bot opens PR #3 and leaks an AWS key in docs/setup.md.');
  w.github.pulls.set(3, {
    number: 3,
    title: 'Document the setup',
    author: 'docs-bot[bot]',
    headSha: '3'.repeat(40),
    files: [
      {
        filename: 'docs/setup.md',
        patch: '@@ -1 +1,2 @@\n # Setup\n+aws_access_key_id = AKIAIOSFODNN7EXAMPLE',
      },
    ],
  });
  const mark = w.slack.calls.length;
  await w.deliver(3);
  for (const c of w.slack.calls.slice(mark).filter((c) => c.args.channel === 'C0ALERTS'))
    w.print(`   Slack   #alerts: ${c.args.text}`);
  const after = await agent.preflight({
    action: 'open_pr',
    repository: 'acme/web',
    paths: ['docs/guide.md'],
  });
  w.print(`   the agent's next preflight → ${after.decision}: ${after.reasons[0]}`);
  const status = await w.service.revocations.status('docs-bot');
  w.print(
    `   revocation ${status?.revocationId}: ${status?.confirmed ? 'confirmed' : 'not yet confirmed'} (${Object.entries(
      status?.effects ?? {},
    )
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')})\n`,
  );
}

/** Returns whether the chain verifies. */
export function verifyTheLedger(w: DemoWorld): boolean {
  w.print('6. Anyone can verify the ledger.');
  w.print('   $ agov ledger verify');
  const result = verifyLedger(sqliteOf(w.service.runtime), []);
  w.print(
    result.ok
      ? `   ok: ${result.checked} entries checked, chain intact`
      : `   first bad sequence: ${result.firstBadSeq}`,
  );
  return result.ok;
}
