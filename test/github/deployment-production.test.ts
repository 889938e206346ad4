/**
 * Issue 17's two deployment figures, as an operator would set production up: a revoked agent's
 * deployment is rejected at once (answered while the event is processed, no person asked), and a
 * T4 agent's deployment to `production` behind a one-approver gate is approved once the vote lands
 * in Slack — and not before.
 */
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunningService } from '../../src/app/service.js';
import { postWebhook } from '../helpers/github.js';
import { REPO } from '../helpers/github-reads.js';
import { buttonBody, postSlack } from '../helpers/slack.js';
import { startWith } from '../helpers/slack-service.js';
import { type DeploymentWorld, requested, servicesUp, settle } from './deployment-fakes.js';

const ORG = `
agents:
  - { id: release-bot, tier: T4, owner: olivia, github_logins: ["release-bot[bot]"] }
approvers:
  - { github: alice, slack: UALICE }
slack:
  approvals_channel: C0APPROVALS
`;
const POLICY = `
environments:
  production: { min_tier: T4, gate: release }
gates:
  release: { approvals: 1, approvers: [alice] }
`;
const RUN_ID = 5150;
const KEY = `deployment:Codertocat/Hello-World:run:${RUN_ID}:env:production`;
const CALLBACK = `${REPO}/actions/runs/${RUN_ID}/deployment_protection_rule`;

const w = { answers: [], slack: [] } as unknown as DeploymentWorld;
beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});
afterAll(() => nock.enableNetConnect());
afterEach(async () => {
  await w.service?.stop();
  nock.cleanAll();
});

async function start(): Promise<RunningService> {
  w.service = await startWith(ORG);
  servicesUp(w, POLICY);
  return w.service;
}

const deploy = () =>
  postWebhook(
    w.service.port,
    'deployment_protection_rule',
    requested('production', 'release-bot[bot]', RUN_ID),
  );

describe('production deployments', () => {
  it('a revoked agent: rejected while the event is processed, no card posted, nobody asked', async () => {
    const s = await start();
    await s.revocations.revoke('release-bot', 'leaked a deploy key', 'carol');
    expect((await deploy()).status).toBe(202);
    await s.github!.drain();
    expect(w.answers).toEqual([
      expect.objectContaining({ uri: CALLBACK, environment_name: 'production', state: 'rejected' }),
    ]);
    await settle(w);
    expect(
      w.slack.filter((c) => c.method === 'chat.postMessage' && c.body.channel === 'C0APPROVALS'),
    ).toEqual([]);
  });

  it('a T4 agent behind a one-approver gate: waits, then approved once the vote lands in Slack', async () => {
    const s = await start();
    await deploy();
    await settle(w);
    expect(w.answers).toEqual([
      {
        uri: CALLBACK,
        environment_name: 'production',
        comment: expect.stringContaining('gate `release` applies'),
      },
    ]);
    const res = await postSlack(s.port, buttonBody('approval_approve', KEY, 'UALICE'));
    expect(res.status).toBe(200);
    await settle(w);
    expect(w.answers.slice(1)).toEqual([
      {
        uri: CALLBACK,
        environment_name: 'production',
        state: 'approved',
        comment: expect.stringContaining('gate `release` approved by alice'),
      },
    ]);
  });
});
