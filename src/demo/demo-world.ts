import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningService, startService } from '../app/service.js';
import { readEnv } from '../config/read-env.js';
import { createLogger } from '../platform/logger.js';
import { GithubStandIn } from './github-stand-in.js';
import { SlackStandIn } from './slack-stand-in.js';
import { STAND_IN_POLICY, standInEnv } from './stand-in-env.js';
import { deliverPullRequest } from './stand-in-requests.js';

export const DEMO_WEBHOOK_SECRET = 'demo-webhook-secret';
export const DEMO_SLACK_SECRET = 'demo-slack-secret';

/** What the demo's story acts on: the real service, the stand-ins, and how to show what they did. */
export interface DemoWorld {
  service: RunningService;
  github: GithubStandIn;
  slack: SlackStandIn;
  base: string;
  ledgerPath: string;
  print: (line: string) => void;
  /** Waits until the service has handled what it was sent and sent what it queued. */
  settle(): Promise<void>;
  /** Delivers the PR's webhook, settles, and prints the check as GitHub shows it. */
  deliver(number: number): Promise<void>;
  stop(): Promise<void>;
}

/** The real service on embedded defaults, with GitHub and Slack played by loopback stand-ins. */
export async function startDemoWorld(print: (line: string) => void): Promise<DemoWorld> {
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
  const ledgerPath = join(dir, 'ledger.db');
  const service = await startService(
    readEnv({
      LEDGER_PATH: ledgerPath,
      GOVERNANCE_CONFIG: config,
      PORT: '0',
      ...standInEnv(github, slack, { webhook: DEMO_WEBHOOK_SECRET, slack: DEMO_SLACK_SECRET }),
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
    await deliverPullRequest(
      base,
      DEMO_WEBHOOK_SECRET,
      github.pullRequestPayload(number),
      crypto.randomUUID(),
    );
    await settle();
    const check = github.checkOn(github.pulls.get(number)!.headSha)!;
    const icon = check.conclusion === 'success' ? '✅' : check.conclusion === 'failure' ? '❌' : '✋';
    print(`   GitHub  ${icon} Agent Governance — ${check.conclusion ?? check.status}: ${check.title}`);
  };
  const stop = async () => {
    await service.stop();
    github.stop();
    slack.stop();
  };
  return { service, github, slack, base, ledgerPath, print, settle, deliver, stop };
}
