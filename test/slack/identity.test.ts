/**
 * One person, one identity across GitHub and Slack, and one tally of approvals: driven through the
 * real endpoints with signed Slack requests and GitHub deliveries.
 */
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunningService } from '../../src/app/service.js';
import { approvalsAsync } from '../../src/ledger/queries/approvals.js';
import { agentPullRequest, examplePayload, postWebhook } from '../helpers/github.js';
import { buttonBody, commandBody, postSlack } from '../helpers/slack.js';
import { github, slackApi, startWith } from '../helpers/slack-service.js';
import { cardText } from '../helpers/slack-suite.js';

const SHA = 'a'.repeat(40);
const KEY = `Codertocat/Hello-World#2@${SHA}`;
const ORG = `
agents:
  - { id: builder-bot, tier: T2, owner: olivia, github_logins: ["builder-bot[bot]"] }
promotion:
  thresholds: { T3: { min_merged_prs: 0, min_days_at_tier: 0, clean_days: 0 } }
  approvals: { T3: 1 }
approvers:
  - { github: alice, slack: UALICE, teams: [payments] }
  - { github: bob, slack: UBOB, teams: [payments] }
  - { github: carol, slack: UCAROL, teams: [platform] }
  - { github: olivia, slack: UOLIVIA }
people:
  - { github: dave, slack: UDAVE }
council: { members: [alice, bob, carol], quorum: 2, distinct_teams: true }
slack:
  approvals_channel: C0APPROVALS
  admins: [UALICE, UDAVE]
`;
let service: RunningService;

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});
afterAll(() => nock.enableNetConnect());
afterEach(async () => {
  await service.stop();
  nock.cleanAll();
});

async function settle() {
  await service.slack!.receiver.idle();
  await service.github!.drain();
  await service.slack!.pump.runNow();
}

async function click(user: string, action = 'approval_approve', value = KEY) {
  expect((await postSlack(service.port, buttonBody(action, value, user))).status).toBe(200);
  await settle();
}

function review(login: string) {
  const payload = examplePayload('pull_request_review', 'submitted');
  payload.installation = { id: 1 };
  payload.repository = agentPullRequest().repository;
  payload.pull_request = agentPullRequest('opened', { sha: SHA, login: 'builder-bot[bot]' }).pull_request;
  payload.review.state = 'approved';
  payload.review.user.login = login;
  payload.review.commit_id = SHA;
  return payload;
}

async function openRequest(policy: string) {
  const gh = github(policy);
  const slack = slackApi();
  await postWebhook(service.port, 'pull_request', gh.pr);
  await settle();
  const last = () => gh.checks.filter((c) => c.status === 'completed').at(-1);
  const told = () =>
    slack.filter((c) => c.method === 'chat.postEphemeral').map((c) => [c.body.user, c.body.text]);
  const card = () => JSON.parse(slack.filter((c) => c.method === 'chat.update').at(-1)!.body.blocks);
  return { gh, slack, last, told, card };
}

describe('the same person through two channels', () => {
  it('an admin who requested a promotion in Slack cannot approve it, in Slack or on the CLI', async () => {
    service = await startWith(
      ORG.replace('council: { members: [alice, bob, carol], quorum: 2, distinct_teams: true }\n', ''),
    );
    const slack = slackApi();
    const res = (await (
      await postSlack(service.port, commandBody('promote builder-bot', 'UALICE'))
    ).json()) as any;
    const id = /^(promo-builder-bot-\d+)/.exec(res.text)![1]!;
    await click('UALICE', 'promotion_approve', id);
    expect(await service.runtime.state.getAgent('builder-bot')).toMatchObject({ tier: 'T2' });
    expect(slack.filter((c) => c.method === 'chat.postEphemeral').map((c) => c.body.text)).toEqual([
      `Not counted: alice cannot approve ${id}: nobody approves their own request.`,
    ]);
    await expect(service.promotions.vote(id, 'alice', 'approve')).rejects.toThrow(
      'nobody approves their own request',
    );
    await click('UBOB', 'promotion_approve', id);
    expect(await service.runtime.state.getAgent('builder-bot')).toMatchObject({ tier: 'T3' });
  });

  it('an approval given in a GitHub review counts once: the same person clicking in Slack is refused', async () => {
    service = await startWith(ORG);
    const r = await openRequest('gates:\n  default: { approvals: 2, allow_owner: false }\n');
    await postWebhook(service.port, 'pull_request_review', review('alice'));
    await settle();
    await click('UALICE');
    expect(r.told()).toEqual([
      ['UALICE', 'Not counted: alice already voted on this commit (in a GitHub review).'],
    ]);
    expect(r.last()).toMatchObject({ conclusion: 'action_required' });
    expect(r.last().output.title).toBe(
      'Needs approval: gate `default` needs 1 more approval(s) from bob, carol',
    );
  });
});

describe('one tally for the check and the card', () => {
  it('a council with distinct teams: two of one team leave it waiting on both, and the other team decides', async () => {
    service = await startWith(ORG);
    const r = await openRequest('gates:\n  default: { council: true }\n');
    await click('UALICE');
    await click('UBOB');
    expect(r.last().output.title).toBe(
      'Needs approval: gate `default` needs 1 more approval(s) from the council: carol',
    );
    const waiting = JSON.stringify(r.card());
    expect(waiting).toContain('needs 1 more approval(s) from the council: carol');
    expect(waiting).toContain('"action_id":"approval_approve"');
    expect(r.told()).toEqual([]);
    const status = (await (
      await postSlack(service.port, commandBody('status builder-bot', 'UDAVE'))
    ).json()) as any;
    expect(status.text).toContain(
      'waiting: Codertocat/Hello-World#2: gate default needs 1 more approval(s) from the council: carol',
    );

    await click('UCAROL');
    expect(r.last()).toMatchObject({ conclusion: 'success', output: { title: 'Approved by alice, carol' } });
    expect(r.card().at(-1)).toEqual({ type: 'section', text: { type: 'mrkdwn', text: '*Approved*' } });
    expect(cardText(r.slack.filter((c) => c.method === 'chat.update').at(-1)!)).toMatchInlineSnapshot(`
      "# Approval needed: Codertocat/Hello-World#2
      *<https://github.com/Codertocat/Hello-World/pull/2|Update the README with new information.>*
      *Agent* \`builder-bot\` | *Tier* T2 builder | *Diff* 1 files, 1 lines | *Needs* council: 2 of 3
      *Why*
      • dependency file(s) changed: \`package.json\`
      > Deadline <time>; expiry never approves.
      ✅ gate default approved by alice, carol
      ✅ alice
      ✅ bob
      ✅ carol
      *Approved*"
    `);
  });

  it('who is still needed names only people who may approve: never the owner, never an agent', async () => {
    service = await startWith(
      `${ORG}\n`.replace(
        '  - { github: olivia, slack: UOLIVIA }\n',
        '  - { github: olivia, slack: UOLIVIA }\n  - { github: "builder-bot[bot]" }\n',
      ),
    );
    const r = await openRequest('gates:\n  default: { approvals: 2, allow_owner: false }\n');
    expect(r.last().output.title).toBe(
      'Needs approval: gate `default` needs 2 more approval(s) from alice, bob, carol',
    );
    expect(JSON.stringify(r.slack.find((c) => c.method === 'chat.postMessage')!.body.blocks)).toContain(
      'needs 2 more approval(s) from alice, bob, carol',
    );
    await click('UOLIVIA');
    expect(r.told()).toEqual([['UOLIVIA', "Not counted: the agent's owner may not approve this gate."]]);
  });
});

describe('a card closed from outside Slack', () => {
  it('a request satisfied by a GitHub review closes its card at once; a later click is refused with why', async () => {
    service = await startWith(ORG);
    const r = await openRequest('gates:\n  default: { approvals: 1 }\n');
    await postWebhook(service.port, 'pull_request_review', review('carol'));
    await settle();
    expect(r.last()).toMatchObject({ conclusion: 'success' });
    const card = r.card();
    expect(card.some((b: any) => b.type === 'actions')).toBe(false);
    expect(card.at(-1).text.text).toMatch(/^\*Approved\*/);
    await click('UBOB');
    expect(r.told()).toEqual([['UBOB', 'Not counted: this request was already approved.']]);
  });

  it('a push supersedes the request: the card closes and says so', async () => {
    service = await startWith(ORG);
    const r = await openRequest('gates:\n  default: { approvals: 1 }\n');
    const push = agentPullRequest('synchronize', { sha: 'b'.repeat(40), login: 'builder-bot[bot]' });
    await postWebhook(service.port, 'pull_request', push);
    await settle();
    const closed = r.slack.find(
      (c) => c.method === 'chat.update' && c.body.ts && JSON.stringify(c.body.blocks).includes('superseded'),
    );
    expect(closed).toBeDefined();
    expect(JSON.parse(closed!.body.blocks).some((b: any) => b.type === 'actions')).toBe(false);
    expect(closed!.body.text).toBe('Approval for Codertocat/Hello-World#2: closed');
    expect(cardText(closed!)).toMatchInlineSnapshot(`
      "# Approval needed: Codertocat/Hello-World#2
      *<https://github.com/Codertocat/Hello-World/pull/2|Update the README with new information.>*
      *Agent* \`builder-bot\` | *Tier* T2 builder | *Diff* 1 files, 1 lines | *Needs* 1 approver(s)
      *Why*
      • dependency file(s) changed: \`package.json\`
      > Deadline <time>; expiry never approves.
      ⏳ gate default needs 1 more approval(s) from alice, bob, carol, olivia
      *Closed*: superseded by a newer commit (bbbbbbb); the new one needs new approvals"
    `);
    await click('UCAROL');
    expect(r.told()).toEqual([['UCAROL', 'Not counted: this request was already closed.']]);
  });

  it('the follower closes a request a push superseded once, its row following the commit', async () => {
    service = await startWith(ORG);
    const r = await openRequest('gates:\n  default: { approvals: 1 }\n');
    const push = agentPullRequest('synchronize', { sha: 'b'.repeat(40), login: 'builder-bot[bot]' });
    await postWebhook(service.port, 'pull_request', push);
    await service.github!.drain();
    // Runs asked for at once: the push's decision is followed once (the contract tests race replicas).
    await Promise.all([service.followLedger(), service.followLedger(), service.followLedger()]);
    await settle();
    const { store } = service.runtime;
    expect(await store.followers.position('consequences')).toBe((await store.head()).seq);
    const resolutions = (await store.entriesAfter(0)).filter((e) => e.type === 'approval.resolved');
    expect(resolutions.map((e) => e.payload)).toEqual([
      { approvalId: KEY, outcome: 'closed', reason: expect.stringMatching(/^superseded by a newer commit/) },
    ]);
    expect(await approvalsAsync.state(store.reader, KEY)).toBe('closed');
    const closed = r.slack.filter((c) => c.method === 'chat.update' && /: closed$/.test(c.body.text));
    expect(closed).toHaveLength(1);
  });
});
