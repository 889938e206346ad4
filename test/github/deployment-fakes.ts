/**
 * What the deployment approval tests share: an organisation with approvers mapped to Slack (and the
 * agent's own login mapped to a Slack user), a policy whose `guarded` environment waits on a
 * 2-approver gate, GitHub's documented `deployment_protection_rule.requested` payload around the
 * real `deployment` of @octokit/webhooks-examples, GitHub answering at the exact callback path and
 * Slack at its documented Web API paths, and a fresh service for every test.
 */
import nock from 'nock';
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';
import type { RunningService } from '../../src/app/service.js';
import { API, examplePayload, githubApi, postWebhook } from '../helpers/github.js';
import { REPO } from '../helpers/github-reads.js';
import { buttonBody, postSlack } from '../helpers/slack.js';
import { slackApi, startWith } from '../helpers/slack-service.js';

export const ORG = `
agents:
  - { id: stage-bot, tier: T3, owner: olivia, github_logins: ["stage-bot[bot]"] }
approvers:
  - { github: alice, slack: UALICE }
  - { github: bob, slack: UBOB }
  - { github: carol, slack: UCAROL }
  - { github: dave, slack: UDAVE }
  - { github: olivia, slack: UOLIVIA }
people:
  # The agent's own login mapped to a Slack user: what an agent driving Slack would look like.
  - { github: "stage-bot[bot]", slack: UAGENT }
slack:
  approvals_channel: C0APPROVALS
  admins: [UCAROL]
`;

export const POLICY = `
environments:
  guarded: { min_tier: T3, gate: prod }
  unstaffed: { min_tier: T3, gate: nobody }
gates:
  prod: { approvals: 2, approvers: [alice, bob, carol, olivia, "stage-bot[bot]"], allow_owner: false, expiry_hours: 24 }
  nobody: { approvals: 1, approvers: [mallory] }
`;

export const RUN_ID = 4242;
export const CALLBACK = `${REPO}/actions/runs/${RUN_ID}/deployment_protection_rule`;
export const KEY = `deployment:Codertocat/Hello-World:run:${RUN_ID}:env:guarded`;

/** GitHub's documented `deployment_protection_rule.requested` payload, around a real deployment. */
export function requested(environment: string, creator = 'stage-bot[bot]', runId = RUN_ID) {
  const base = examplePayload('deployment', 'created');
  const deployment = { ...base.deployment, environment, payload: {} };
  deployment.creator = { ...deployment.creator, login: creator };
  return {
    action: 'requested',
    environment,
    event: 'push',
    sha: deployment.sha,
    ref: `refs/heads/${deployment.ref}`,
    deployment_callback_url: `${API}${REPO}/actions/runs/${runId}/deployment_protection_rule`,
    deployment,
    pull_requests: [],
    repository: base.repository,
    installation: { id: 1 },
    sender: { ...base.sender, login: creator },
  };
}

/** The running service of the current test, what Slack and GitHub received, and the steps tests take. */
export interface DeploymentWorld {
  service: RunningService;
  /** Every Slack Web API call, by method. */
  slack: { method: string; body: any }[];
  /** Every answer GitHub received at a callback path, in order. */
  answers: any[];
}

/** Starts the service before each test of the file (GitHub and Slack up) and stops it after. */
export function deploymentWorld(): DeploymentWorld {
  const w = { answers: [], slack: [] } as unknown as DeploymentWorld;
  beforeAll(() => {
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
  });
  afterAll(() => nock.enableNetConnect());
  beforeEach(async () => {
    w.service = await startWith(ORG);
    servicesUp(w);
  });
  afterEach(async () => {
    await w.service?.stop();
    nock.cleanAll();
  });
  return w;
}

/** GitHub serving the policy and answering at the callback paths, Slack answering; both recorded afresh. */
export function servicesUp(w: DeploymentWorld, policy = POLICY): void {
  githubApi();
  nock(API)
    .persist()
    .get(/\/contents\/\.github%2Fagent-governance\.yml/)
    .query(true)
    .reply((uri) =>
      uri.startsWith(`${REPO}/`)
        ? [200, { type: 'file', encoding: 'base64', content: Buffer.from(policy).toString('base64') }]
        : [404, { message: 'Not Found' }],
    );
  w.answers = [];
  nock(API)
    .persist()
    .post(/\/actions\/runs\/\d+\/deployment_protection_rule$/)
    .reply(204, (uri, body) => {
      w.answers.push({ uri, ...(body as object) });
      return '';
    });
  w.slack = slackApi();
}

/** Everything the last input calls for, done: decisions, the ledger followed, GitHub and Slack told. */
export async function settle(w: DeploymentWorld): Promise<void> {
  await w.service.slack!.receiver.idle();
  await w.service.github!.drain();
  await w.service.followLedger();
  await w.service.github!.drain();
  await w.service.slack!.pump.runNow();
}

/** The deployment to `guarded` waits, and its card is posted; the card's call is returned. */
export async function deployWaits(w: DeploymentWorld): Promise<{ method: string; body: any }> {
  const res = await postWebhook(w.service.port, 'deployment_protection_rule', requested('guarded'));
  expect(res.status).toBe(202);
  await settle(w);
  expect(w.answers).toEqual([
    { uri: CALLBACK, environment_name: 'guarded', comment: expect.stringContaining('gate `prod` applies') },
  ]);
  w.answers.length = 0;
  const card = w.slack.find((c) => c.method === 'chat.postMessage' && c.body.channel === 'C0APPROVALS');
  expect(card).toBeDefined();
  return card!;
}

/** A signed click on Approve, and what it calls for, done. */
export async function click(w: DeploymentWorld, user: string, value = KEY, actionTs?: string): Promise<void> {
  const res = await postSlack(w.service.port, buttonBody('approval_approve', value, user, actionTs));
  expect(res.status).toBe(200);
  await settle(w);
}

/** The ephemeral notes voters got, as [user, text]. */
export const ephemerals = (w: DeploymentWorld) =>
  w.slack.filter((c) => c.method === 'chat.postEphemeral').map((c) => [c.body.user, c.body.text]);

export const updates = (w: DeploymentWorld) => w.slack.filter((c) => c.method === 'chat.update');

/** The ledger's entries of a type, oldest first, each with its agent, actor and payload. */
export async function entries(w: DeploymentWorld, type: string) {
  return (
    await w.service.runtime.store.reader.all(
      'SELECT agent_id AS agentId, actor, payload FROM ledger_entries WHERE type = ? ORDER BY seq',
      [type],
    )
  ).map((r: any) => ({ agentId: r.agentId, actor: r.actor, ...JSON.parse(r.payload) }));
}
