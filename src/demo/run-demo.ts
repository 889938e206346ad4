import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startService } from '../app/service.js';
import { AgentClient } from '../client/index.js';
import { readEnv } from '../config/read-env.js';
import { verifyLedger } from '../ledger/verify.js';
import { createLogger } from '../platform/logger.js';
import {
  clickApprove,
  deliverPullRequest,
  GithubStandIn,
  SlackStandIn,
  STAND_IN_POLICY,
  standInEnv,
} from './stand-ins.js';

const WEBHOOK_SECRET = 'demo-webhook-secret';
const SLACK_SECRET = 'demo-slack-secret';

/**
 * A newcomer's first five minutes: the real service on embedded defaults, GitHub and Slack played
 * by loopback stand-ins, and a story told as people would see it. Returns true when the ledger
 * verifies at the end.
 */
export async function runDemo(print: (line: string) => void = console.log): Promise<boolean> {
  const github = await new GithubStandIn().start();
  const slack = await new SlackStandIn().start();
  const dir = mkdtempSync(join(tmpdir(), 'agov-demo-'));
  const config = join(dir, 'agent-governance.yml');
  writeFileSync(
    config,
    [
      'approvers: [{ github: alice, slack: UALICE }]',
      'slack: { approvals_channel: C0APPROVALS, notify: { agent_revoked: C0ALERTS } }',
      '',
    ].join('\n'),
  );
  github.policy = STAND_IN_POLICY;
  const service = await startService(
    readEnv({
      LEDGER_PATH: join(dir, 'ledger.db'),
      GOVERNANCE_CONFIG: config,
      PORT: '0',
      ...standInEnv(github, slack, { webhook: WEBHOOK_SECRET, slack: SLACK_SECRET }),
      HEALTH_PROBE_INTERVAL_MS: '600000',
    }),
    createLogger('silent'),
  );
  const base = `http://127.0.0.1:${service.port}`;
  const settle = async () => {
    await service.slack!.receiver.idle();
    await service.github!.drain();
    await service.slack!.pump.runNow();
  };
  const deliver = async (number: number) => {
    await deliverPullRequest(base, WEBHOOK_SECRET, github.pullRequestPayload(number), crypto.randomUUID());
    await settle();
    const check = github.checkOn(github.pulls.get(number)!.headSha)!;
    const icon = check.conclusion === 'success' ? '✅' : check.conclusion === 'failure' ? '❌' : '✋';
    print(`   GitHub  ${icon} Agent Governance — ${check.conclusion ?? check.status}: ${check.title}`);
  };
  const slackSince = (n: number) => slack.calls.slice(n);
  try {
    print(
      `Agent Governance demo: the service on embedded defaults (ledger ${join(dir, 'ledger.db')}), GitHub and Slack played on loopback.\n`,
    );
    print('1. An admin registers an agent at T1 operator.');
    print('   $ agov agents add docs-bot --tier T1 --owner olivia --github-login "docs-bot[bot]"');
    const { token } = await service.runtime.governance.registerAgent(
      { id: 'docs-bot', tier: 'T1', owner: 'olivia', identities: { githubLogins: ['docs-bot[bot]'] } },
      'admin',
    );
    const agent = new AgentClient({ baseUrl: base, token });
    print(
      `   the agent asks first: preflight open_pr on acme/web docs/ → ${(await agent.preflight({ action: 'open_pr', repository: 'acme/web', paths: ['docs/guide.md'] })).decision}\n`,
    );

    print('2. docs-bot opens PR #1, a change to docs/guide.md.');
    github.pulls.set(1, {
      number: 1,
      title: 'Clarify the install guide',
      author: 'docs-bot[bot]',
      headSha: '1'.repeat(40),
      files: [{ filename: 'docs/guide.md', patch: '@@ -1 +1,2 @@\n # Guide\n+Run npm ci first.' }],
    });
    await deliver(1);
    print('');

    print('3. docs-bot opens PR #2, touching docs/legal/, a protected path: it waits for a person.');
    github.pulls.set(2, {
      number: 2,
      title: 'Update the terms',
      author: 'docs-bot[bot]',
      headSha: '2'.repeat(40),
      files: [{ filename: 'docs/legal/terms.md', patch: '@@ -1 +1,2 @@\n # Terms\n+New clause.' }],
    });
    let mark = slack.calls.length;
    await deliver(2);
    for (const c of slackSince(mark).filter((c) => c.method === 'chat.postMessage'))
      print(`   Slack   #approvals: ${c.args.text} [Approve] [Reject]`);
    print('');

    print('4. alice clicks Approve in Slack.');
    mark = slack.calls.length;
    await clickApprove(base, SLACK_SECRET, 'UALICE', `acme/web#2@${'2'.repeat(40)}`);
    await settle();
    if (slackSince(mark).some((c) => c.method === 'chat.update'))
      print('   Slack   the request now reads: ✅ alice — Approved (buttons gone)');
    const check2 = github.checkOn('2'.repeat(40))!;
    print(`   GitHub  ✅ Agent Governance — ${check2.conclusion}: ${check2.title}\n`);

    print('5. docs-bot opens PR #3 and leaks an AWS key in docs/setup.md.');
    github.pulls.set(3, {
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
    mark = slack.calls.length;
    await deliver(3);
    for (const c of slackSince(mark).filter((c) => c.args.channel === 'C0ALERTS'))
      print(`   Slack   #alerts: ${c.args.text}`);
    const after = await agent.preflight({
      action: 'open_pr',
      repository: 'acme/web',
      paths: ['docs/guide.md'],
    });
    print(`   the agent's next preflight → ${after.decision}: ${after.reasons[0]}`);
    const status = service.revocations.status('docs-bot');
    print(
      `   revocation ${status?.revocationId}: ${status?.confirmed ? 'confirmed' : 'not yet confirmed'} (${Object.entries(
        status?.effects ?? {},
      )
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')})\n`,
    );

    print('6. Anyone can verify the ledger.');
    print('   $ agov ledger verify');
    const result = verifyLedger(service.runtime.ledger, []);
    print(
      result.ok
        ? `   ok: ${result.checked} entries checked, chain intact`
        : `   first bad sequence: ${result.firstBadSeq}`,
    );
    return result.ok;
  } finally {
    await service.stop();
    github.stop();
    slack.stop();
  }
}
