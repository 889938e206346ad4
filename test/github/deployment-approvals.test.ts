/**
 * A deployment whose environment names a gate waits on the same Slack approvals as a PR: a signed
 * `deployment_protection_rule` delivery in (GitHub's documented payload around the real
 * `deployment` of @octokit/webhooks-examples), the approval card posted at Slack's documented Web
 * API path, signed clicks on its buttons, and the answer at the exact callback path once the gate
 * is decided. (The gate's other answers are in deployment-gate.test.ts.)
 */
import nock from 'nock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { RunningService } from '../../src/app/service.js';
import { dbOf } from '../../src/ledger/ledger.js';
import { tempDir } from '../helpers/agov.js';
import { API, examplePayload, githubApi, postWebhook } from '../helpers/github.js';
import { REPO } from '../helpers/github-reads.js';
import { buttonBody, postSlack, viewSubmissionBody } from '../helpers/slack.js';
import { slackApi, startWith } from '../helpers/slack-service.js';
import { cardText } from '../helpers/slack-suite.js';

const ORG = `
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
`;

const POLICY = `
environments:
  guarded: { min_tier: T3, gate: prod }
  unstaffed: { min_tier: T3, gate: nobody }
gates:
  prod: { approvals: 2, approvers: [alice, bob, carol, olivia, "stage-bot[bot]"], allow_owner: false, expiry_hours: 24 }
  nobody: { approvals: 1, approvers: [mallory] }
`;

const RUN_ID = 4242;
const CALLBACK = `${REPO}/actions/runs/${RUN_ID}/deployment_protection_rule`;
const KEY = `deployment:Codertocat/Hello-World:run:${RUN_ID}:env:guarded`;

/** GitHub's documented `deployment_protection_rule.requested` payload, around a real deployment. */
function requested(environment: string, creator = 'stage-bot[bot]', runId = RUN_ID) {
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

let service: RunningService;
let slack: { method: string; body: any }[];
/** Every answer GitHub received at the callback path, in order. */
let answers: any[];

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});
afterAll(() => nock.enableNetConnect());
beforeEach(async () => {
  service = await startWith(ORG);
  githubApi();
  nock(API)
    .persist()
    .get(/\/contents\/\.github%2Fagent-governance\.yml/)
    .query(true)
    .reply((uri) =>
      uri.startsWith(`${REPO}/`)
        ? [200, { type: 'file', encoding: 'base64', content: Buffer.from(POLICY).toString('base64') }]
        : [404, { message: 'Not Found' }],
    );
  answers = [];
  nock(API)
    .persist()
    .post(/\/actions\/runs\/\d+\/deployment_protection_rule$/)
    .reply(204, (uri, body) => {
      answers.push({ uri, ...(body as object) });
      return '';
    });
  slack = slackApi();
});
afterEach(async () => {
  await service?.stop();
  nock.cleanAll();
});

/** Everything the last input calls for, done: decisions, the ledger followed, GitHub and Slack told. */
async function settle() {
  await service.slack!.receiver.idle();
  await service.github!.drain();
  await service.followLedger();
  await service.github!.drain();
  await service.slack!.pump.runNow();
}

/** The deployment to `guarded` waits, and its card is posted. */
async function deployWaits() {
  const res = await postWebhook(service.port, 'deployment_protection_rule', requested('guarded'));
  expect(res.status).toBe(202);
  await settle();
  expect(answers).toEqual([
    { uri: CALLBACK, environment_name: 'guarded', comment: expect.stringContaining('gate `prod` applies') },
  ]);
  answers.length = 0;
  const card = slack.find((c) => c.method === 'chat.postMessage' && c.body.channel === 'C0APPROVALS');
  expect(card).toBeDefined();
  return card!;
}

async function click(user: string, value = KEY, actionTs?: string) {
  const res = await postSlack(service.port, buttonBody('approval_approve', value, user, actionTs));
  expect(res.status).toBe(200);
  await settle();
}

const ephemerals = () =>
  slack.filter((c) => c.method === 'chat.postEphemeral').map((c) => [c.body.user, c.body.text]);

const updates = () => slack.filter((c) => c.method === 'chat.update');

function entries(type: string) {
  return dbOf(service.runtime.ledger)
    .prepare('SELECT agent_id AS agentId, actor, payload FROM ledger_entries WHERE type = ? ORDER BY seq')
    .all(type)
    .map((r: any) => ({ agentId: r.agentId, actor: r.actor, ...JSON.parse(r.payload) }));
}

describe('votes that must not count', () => {
  it('the agent itself, clicking Approve through a Slack user mapped to its login: refused, nothing answered', async () => {
    await deployWaits();
    await click('UAGENT');
    expect(ephemerals()).toEqual([['UAGENT', 'Not counted: an agent never approves.']]);
    expect(entries('deployment.vote')).toEqual([]);
    expect(answers).toEqual([]);
  });

  it('people the gate does not count: unmapped, the agent’s owner, an approver the gate does not name', async () => {
    await deployWaits();
    await click('UMALLORY');
    await click('UOLIVIA');
    await click('UDAVE');
    expect(ephemerals()).toEqual([
      [
        'UMALLORY',
        'Not counted: you are not an approver: your Slack user is not mapped to a GitHub login in the organisation config.',
      ],
      ['UOLIVIA', "Not counted: the agent's owner may not approve this gate."],
      ['UDAVE', 'Not counted: not a named approver of gate `prod`.'],
    ]);
    expect(entries('approval.click').map((c) => [c.slackUser, c.accepted])).toEqual([
      ['UMALLORY', false],
      ['UOLIVIA', false],
      ['UDAVE', false],
    ]);
    expect(entries('deployment.vote')).toEqual([]);
    expect(answers).toEqual([]);
  });

  it('a forged button value naming another run, or this run spelled another way, counts nowhere', async () => {
    await deployWaits();
    // A second deployment of the same agent waits too: run 4343.
    await postWebhook(
      service.port,
      'deployment_protection_rule',
      requested('guarded', 'stage-bot[bot]', 4343),
    );
    await settle();
    answers.length = 0;
    const forged = [
      `deployment:Codertocat/Hello-World:run:${RUN_ID}:env:%67uarded`, // a second spelling of `guarded`
      `deployment:Codertocat/Hello-World:run:0${RUN_ID}:env:guarded`,
      `${KEY}:run:4343:env:guarded`,
      'deployment:Codertocat/Hello-World:run:9999:env:guarded', // a run that never asked
      `deployment:evil/elsewhere:run:${RUN_ID}:env:guarded`,
      `Codertocat/Hello-World#${RUN_ID}@${'a'.repeat(40)}`, // a PR key with the run's number
    ];
    for (const value of forged) await click('UALICE', value);
    const noKey = 'Not counted: this approval request is not known (it may be for an older commit).';
    const unknownDeployment = 'Not counted: this deployment approval request is not known.';
    expect(ephemerals().map(([, text]) => text)).toEqual([
      noKey,
      noKey,
      noKey,
      unknownDeployment,
      unknownDeployment,
      noKey,
    ]);
    expect(entries('deployment.vote')).toEqual([]);
    // Both requests still wait, each for two approvals.
    await click('UALICE');
    await click('UBOB');
    expect(answers).toEqual([
      expect.objectContaining({ uri: CALLBACK, environment_name: 'guarded', state: 'approved' }),
    ]);
  });

  it('a replayed click, and the same person clicking again, count once', async () => {
    await deployWaits();
    const body = buttonBody('approval_approve', KEY, 'UALICE', '1700000001.000001');
    await postSlack(service.port, body);
    await postSlack(service.port, body); // Slack's retry or a replay: the same signed request
    await click('UALICE'); // a second click, a new request
    await settle();
    expect(entries('deployment.vote').map((v) => [v.approver, v.verdict])).toEqual([['alice', 'approve']]);
    expect(ephemerals()).toEqual([['UALICE', 'Not counted: alice already voted on this deployment.']]);
    expect(answers).toEqual([]);
  });

  it('after the agent is revoked: GitHub gets one answer, rejected; the card closes; late approvals change nothing', async () => {
    await deployWaits();
    await click('UALICE');
    await service.revocations.revoke('stage-bot', 'pushed to production by hand', 'carol');
    await settle();
    expect(answers).toEqual([
      expect.objectContaining({
        uri: CALLBACK,
        environment_name: 'guarded',
        state: 'rejected',
        comment: expect.stringContaining('stage-bot was revoked by carol: pushed to production by hand'),
      }),
    ]);
    const closed = updates().at(-1)!;
    expect(closed.body.text).toBe('Deployment approval for Codertocat/Hello-World to guarded: rejected');
    expect(cardText(closed)).toContain(
      '*Rejected*: stage-bot was revoked by carol: pushed to production by hand',
    );
    expect(cardText(closed)).not.toContain('approval_approve');

    await click('UBOB');
    expect(ephemerals()).toEqual([['UBOB', 'Not counted: this deployment was already rejected.']]);
    expect(entries('deployment.vote').map((v) => v.approver)).toEqual(['alice']);
    expect(entries('deployment.decided').map((d) => d.state)).toEqual(['waiting', 'rejected']);
    expect(answers).toHaveLength(1);
  });

  it('a revoke signal the ledger does not have yet (the kill switch’s first step) refuses approvals too', async () => {
    await deployWaits();
    await service.runtime.governance.state.apply([
      {
        kind: 'set_revoke_signal',
        signal: {
          agentId: 'stage-bot',
          reason: 'leaked a key',
          actor: 'carol',
          at: new Date().toISOString(),
          seq: 0,
        },
      },
    ]);
    await click('UALICE');
    await click('UBOB');
    const refused = 'Not counted: agent stage-bot is revoked: its deployment is not approved.';
    expect(ephemerals()).toEqual([
      ['UALICE', refused],
      ['UBOB', refused],
    ]);
    expect(entries('deployment.vote')).toEqual([]);
    expect(answers).toEqual([]);
  });

  it('a gate nobody may approve (its approvers are not the organisation’s): rejected at once, no card', async () => {
    const res = await postWebhook(service.port, 'deployment_protection_rule', requested('unstaffed'));
    expect(res.status).toBe(202);
    await settle();
    expect(answers).toEqual([
      expect.objectContaining({
        environment_name: 'unstaffed',
        state: 'rejected',
        comment: expect.stringContaining('no approvers are configured for gate `nobody`'),
      }),
    ]);
    expect(slack.filter((c) => c.method === 'chat.postMessage')).toEqual([]);
  });
});

describe('the gate decides the deployment', () => {
  it('waits, posts the card, and answers approved exactly once when two approvers approve', async () => {
    const card = await deployWaits();
    expect(card.body.text).toBe('Deployment approval needed: Codertocat/Hello-World to guarded by stage-bot');
    expect(cardText(card)).toMatchInlineSnapshot(`
      "# Deployment approval needed: Codertocat/Hello-World to guarded
      *<https://github.com/Codertocat/Hello-World/actions/runs/4242|Workflow run 4242>* on \`gh-pages\`
      *Agent* \`stage-bot\` | *Tier* T3 executor | *Environment* guarded | *Repository* Codertocat/Hello-World
      *Why*
      • agent stage-bot (authenticated by deployment creator stage-bot[bot]), T3, active
      • gate \`prod\` applies
      > Deadline <time>; expiry never approves.
      ⏳ gate prod needs 2 more approval(s) from alice, bob, carol
      [Approve (approval_approve, primary): deployment:Codertocat/Hello-World:run:4242:env:guarded] [Reject (approval_reject, danger): deployment:Codertocat/Hello-World:run:4242:env:guarded]"
    `);

    await click('UALICE');
    expect(answers).toEqual([]);
    expect(cardText(updates().at(-1)!)).toContain('⏳ gate prod needs 1 more approval(s) from bob, carol');

    await click('UBOB');
    await click('UCAROL'); // too late: it is decided
    expect(answers).toEqual([
      {
        uri: CALLBACK,
        environment_name: 'guarded',
        state: 'approved',
        comment: expect.stringContaining('gate `prod` approved by alice, bob'),
      },
    ]);
    expect(ephemerals()).toEqual([['UCAROL', 'Not counted: this deployment was already approved.']]);
    const last = updates().at(-1)!;
    expect(last.body).toMatchObject({ channel: 'C0APPROVALS', ts: '1700000000.000100' });
    expect(last.body.text).toBe('Deployment approval for Codertocat/Hello-World to guarded: approved');
    expect(cardText(last)).toContain('✅ alice\n✅ bob\n*Approved*');
    expect(entries('deployment.decided').map((d) => [d.state, d.actor])).toEqual([
      ['waiting', 'github'],
      ['approved', 'bob'],
    ]);
  });

  it('GitHub down when the deciding vote lands, and the service restarted: answered approved once, by the next start', async () => {
    await service.stop();
    const dir = tempDir();
    service = await startWith(ORG, { dir });
    await deployWaits();
    await click('UALICE');
    nock.cleanAll();
    githubApi();
    const down = nock(API).persist().post(CALLBACK).reply(503, { message: 'Service Unavailable' });
    slack = slackApi();
    await postSlack(service.port, buttonBody('approval_approve', KEY, 'UBOB'));
    await service.slack!.receiver.idle();
    service.github!.kickOutbox();
    // The answer was tried and refused: it stays in the outbox, recorded with the vote.
    await vi.waitFor(() => expect(down.isDone()).toBe(true), { timeout: 20_000 });
    expect(entries('deployment.decided').map((d) => d.state)).toEqual(['waiting', 'approved']);
    await service.stop();

    nock.cleanAll();
    githubApi();
    answers = [];
    nock(API)
      .persist()
      .post(CALLBACK)
      .reply(204, (uri, body) => {
        answers.push({ uri, ...(body as object) });
        return '';
      });
    slack = slackApi();
    service = await startWith(ORG, { dir });
    await settle();
    expect(answers).toEqual([expect.objectContaining({ uri: CALLBACK, state: 'approved' })]);
  });

  it('a rejection with its reason answers rejected', async () => {
    await deployWaits();
    const res = await postSlack(service.port, viewSubmissionBody(KEY, 'UCAROL', 'not during the freeze'));
    expect(res.status).toBe(200);
    await settle();
    expect(answers).toEqual([
      expect.objectContaining({
        uri: CALLBACK,
        state: 'rejected',
        comment: expect.stringContaining('gate `prod` rejected by carol'),
      }),
    ]);
    expect(cardText(updates().at(-1)!)).toContain('⛔ carol: not during the freeze');
  });

  it('expiry answers rejected, saying so, and never approves', async () => {
    await deployWaits();
    await click('UALICE');
    await service.maintenance(new Date(Date.now() + 25 * 3600_000));
    await settle();
    expect(answers).toEqual([
      expect.objectContaining({
        uri: CALLBACK,
        state: 'rejected',
        comment: expect.stringMatching(
          /gate `prod` expired at .* without enough approvals \(expiry never approves\)/,
        ),
      }),
    ]);
    expect(cardText(updates().at(-1)!)).toContain('*Rejected*: gate `prod` expired');
    await click('UBOB');
    expect(ephemerals()).toEqual([['UBOB', 'Not counted: this deployment was already rejected.']]);
    expect(answers).toHaveLength(1);
  });
});
