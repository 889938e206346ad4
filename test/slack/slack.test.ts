import nock from 'nock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunningService } from '../../src/app/service.js';
import { dbOf } from '../../src/ledger/ledger.js';
import { postWebhook } from '../helpers/github.js';
import { buttonBody, commandBody, postSlack, slackHeaders, viewSubmissionBody } from '../helpers/slack.js';
import { github, slackApi, startWith } from '../helpers/slack-service.js';

const ORG = `
agents:
  - { id: builder-bot, tier: T2, owner: olivia, github_logins: ["builder-bot[bot]"] }
promotion:
  thresholds: { T3: { min_merged_prs: 0, min_days_at_tier: 0, clean_days: 0 } }
approvers:
  - { github: alice, slack: UALICE }
  - { github: bob, slack: UBOB }
  - { github: carol, slack: UCAROL }
  - { github: olivia, slack: UOLIVIA }
slack:
  approvals_channel: C0APPROVALS
  admins: [UADMIN]
  notify: { agent_revoked: C0ALERTS }
`;
const POLICY = 'gates:\n  default: { approvals: 2, allow_owner: false }\n';
const SHA = 'a'.repeat(40);
const KEY = `Codertocat/Hello-World#2@${SHA}`;
let service: RunningService;

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});
afterAll(() => nock.enableNetConnect());
beforeEach(async () => {
  service = await startWith(ORG);
});

afterEach(async () => {
  await service.stop();
  nock.cleanAll();
});

async function openApprovalRequest() {
  const gh = github(POLICY);
  const slack = slackApi();
  await postWebhook(service.port, 'pull_request', gh.pr);
  await service.github!.drain();
  await service.slack!.pump.runNow();
  return { gh, slack };
}

describe('signed requests only', () => {
  it.each([
    ['a forged signature', (b: string) => slackHeaders(b, undefined, 'not-the-secret'), 401],
    [
      'a timestamp older than 5 minutes',
      (b: string) => slackHeaders(b, Math.floor(Date.now() / 1000) - 301),
      401,
    ],
    [
      'a timestamp more than 5 minutes ahead',
      (b: string) => slackHeaders(b, Math.floor(Date.now() / 1000) + 360),
      401,
    ],
  ] as const)('refuses %s and records only the refusal', async (_n, headers, status) => {
    const body = commandBody('list', 'UADMIN');
    const res = await postSlack(service.port, body, headers(body));
    expect(res.status).toBe(status);
    const types = (
      dbOf(service.runtime.ledger).prepare("SELECT type FROM ledger_entries WHERE actor = 'slack'").all() as {
        type: string;
      }[]
    ).map((r) => r.type);
    expect(types).toEqual(['api.refused']);
  });

  it('refuses a malformed payload', async () => {
    const body = new URLSearchParams({ payload: '{"type":"block_actions","user":{}}' }).toString();
    const res = await postSlack(service.port, body);
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error).toBe('bad_payload');
  });
});

describe('/agent', () => {
  it('answers help, list and status ephemerally, and refuses and records an admin command from a non-admin', async () => {
    const help = await (await postSlack(service.port, commandBody('help', 'UALICE'))).json();
    expect(help).toMatchObject({ response_type: 'ephemeral' });
    expect((help as any).text).toContain('`/agent revoke <agent> <reason>`: the kill switch (admins)');
    const status = (await (
      await postSlack(service.port, commandBody('status builder-bot', 'UALICE'))
    ).json()) as any;
    expect(status.text).toMatch(/^\*builder-bot\* T2 builder, active\nbudget: 0 of 20 in 168 h\nlocks: none/);
    const refused = (await (
      await postSlack(service.port, commandBody('revoke builder-bot oops', 'UALICE'))
    ).json()) as any;
    expect(refused.text).toBe(
      'You may not run `/agent revoke`: the organisation config names who may (slack.admins).',
    );
    const bad = (await (await postSlack(service.port, commandBody('status', 'UALICE'))).json()) as any;
    expect(bad.text).toBe('Usage: `/agent status <agent>`');
    expect(await service.runtime.state.getAgent('builder-bot')).toMatchObject({ status: 'active' });
    const refusals = dbOf(service.runtime.ledger)
      .prepare("SELECT actor FROM ledger_entries WHERE type = 'api.refused'")
      .all();
    expect(refusals).toEqual([{ actor: 'UALICE' }]);
  });

  it('an admin revokes from Slack, and the alert goes to the configured channel', async () => {
    const calls = slackApi();
    const res = (await (
      await postSlack(service.port, commandBody('revoke builder-bot leaked a token', 'UADMIN'))
    ).json()) as any;
    expect(res.text).toMatch(/^Revoked `builder-bot` \(rev-builder-bot-\d+\)/);
    await service.slack!.pump.runNow();
    expect(calls).toEqual([
      {
        method: 'chat.postMessage',
        body: {
          channel: 'C0ALERTS',
          text: ':rotating_light: `builder-bot` was revoked by slack:UADMIN: leaked a token',
        },
      },
    ]);
  });
});

describe('approval requests', () => {
  it('posts the request with the facts and the buttons when a gate needs people', async () => {
    const { slack } = await openApprovalRequest();
    const post = slack.find((c) => c.method === 'chat.postMessage')!;
    expect(post.body.channel).toBe('C0APPROVALS');
    const blocks = JSON.parse(post.body.blocks);
    expect(blocks[0]).toEqual({
      type: 'header',
      text: { type: 'plain_text', text: 'Approval needed: Codertocat/Hello-World#2' },
    });
    expect(JSON.stringify(blocks)).toContain('dependency file(s) changed: `package.json`');
    expect(blocks.at(-1).elements.map((e: any) => [e.action_id, e.value])).toEqual([
      ['approval_approve', KEY],
      ['approval_reject', KEY],
    ]);
  });

  it('refuses a non-approver and the owner with an ephemeral explanation, and records each click', async () => {
    const { slack } = await openApprovalRequest();
    await postSlack(service.port, buttonBody('approval_approve', KEY, 'UMALLORY'));
    await postSlack(service.port, buttonBody('approval_approve', KEY, 'UOLIVIA'));
    await service.slack!.pump.runNow();
    const ephemerals = slack
      .filter((c) => c.method === 'chat.postEphemeral')
      .map((c) => [c.body.user, c.body.text]);
    expect(ephemerals).toEqual([
      [
        'UMALLORY',
        'Not counted: you are not an approver: your Slack user is not mapped to a GitHub login in the organisation config.',
      ],
      ['UOLIVIA', "Not counted: the agent's owner may not approve this gate."],
    ]);
    const clicks = dbOf(service.runtime.ledger)
      .prepare(
        "SELECT json_extract(payload, '$.slackUser') AS u, json_extract(payload, '$.githubLogin') AS l, json_extract(payload, '$.accepted') AS ok FROM ledger_entries WHERE type = 'approval.click'",
      )
      .all();
    expect(clicks).toEqual([
      { u: 'UMALLORY', l: null, ok: 0 },
      { u: 'UOLIVIA', l: 'olivia', ok: 0 },
    ]);
  });

  it('two approvers clicking at once on a 2-of-3 gate: one decision, recorded once, the check passes once', async () => {
    const { gh, slack } = await openApprovalRequest();
    const before = gh.checks.length;
    const [a, b] = await Promise.all([
      postSlack(service.port, buttonBody('approval_approve', KEY, 'UALICE')),
      postSlack(service.port, buttonBody('approval_approve', KEY, 'UBOB')),
    ]);
    expect([a.status, b.status]).toEqual([200, 200]);
    // A double click and a Slack retry of the same action count once.
    const again = buttonBody('approval_approve', KEY, 'UALICE', '123.456');
    await postSlack(service.port, again);
    await postSlack(service.port, again);
    await service.slack!.receiver.idle();
    await service.github!.drain();
    await service.slack!.pump.runNow();
    const db = dbOf(service.runtime.ledger);
    expect(
      db.prepare("SELECT COUNT(*) AS n FROM ledger_entries WHERE type = 'approval.resolved'").get(),
    ).toEqual({ n: 1 });
    expect(
      db.prepare("SELECT approver FROM approvals WHERE source = 'slack' ORDER BY approver").all(),
    ).toEqual([{ approver: 'alice' }, { approver: 'bob' }]);
    const after = gh.checks.slice(before);
    // Each counted vote moves the check (the check and the card show one tally); it passes once.
    expect(after.filter((c) => c.conclusion === 'success')).toHaveLength(1);
    expect(after.at(-1)).toMatchObject({
      conclusion: 'success',
      output: { title: 'Approved by alice, bob' },
    });
    const updates = slack.filter((c) => c.method === 'chat.update');
    expect(updates.at(-1)!.body.ts).toBe('1700000000.000100');
    expect(JSON.parse(updates.at(-1)!.body.blocks).at(-1)).toEqual({
      type: 'section',
      text: { type: 'mrkdwn', text: '*Approved*' },
    });
  });

  it('Reject asks for a reason in a modal, and the rejection fails the check', async () => {
    const { gh, slack } = await openApprovalRequest();
    await postSlack(service.port, buttonBody('approval_reject', KEY, 'UCAROL'));
    expect(slack.find((c) => c.method === 'views.open')!.body.trigger_id).toMatch(/^trig-/);
    const empty = await postSlack(service.port, viewSubmissionBody(KEY, 'UCAROL', ''));
    expect(await empty.json()).toEqual({
      response_action: 'errors',
      errors: { reason: 'Say why, in a few words.' },
    });
    await postSlack(service.port, viewSubmissionBody(KEY, 'UCAROL', 'pins an abandoned package'));
    await service.slack!.receiver.idle();
    await service.github!.drain();
    expect(gh.checks.at(-1)).toMatchObject({ conclusion: 'failure', output: { title: 'Rejected by carol' } });
  });

  it('Slack rate-limiting: the message waits and goes out once, after Retry-After', async () => {
    const gh = github(POLICY);
    const sent: any[] = [];
    nock('https://slack.com')
      .post('/api/chat.postMessage')
      .reply(429, { ok: false, error: 'ratelimited' }, { 'retry-after': '0' });
    nock('https://slack.com').post('/api/chat.postMessage').reply(503, 'unavailable');
    nock('https://slack.com')
      .persist()
      .post('/api/chat.postMessage')
      .reply(200, (_u, raw: any) => {
        const b = Object.fromEntries(new URLSearchParams(raw));
        sent.push(b);
        return { ok: true, channel: b.channel, ts: '1.2' };
      });
    await postWebhook(service.port, 'pull_request', gh.pr);
    await service.github!.drain();
    for (let i = 0; i < 20 && sent.length === 0; i++) {
      await service.slack!.pump.runNow();
      await new Promise((r) => setTimeout(r, 30));
    }
    await service.slack!.pump.runNow();
    expect(sent).toHaveLength(1);
    const row = dbOf(service.runtime.ledger)
      .prepare("SELECT status, attempts FROM outbox WHERE target = 'slack'")
      .get();
    expect(row).toEqual({ status: 'delivered', attempts: 3 });
  });
});

describe('expiry and the App Home', () => {
  it('expiry never approves: the buttons go, and the check fails when the gate rejects on expiry', async () => {
    const { gh, slack } = await openApprovalRequest();
    await postSlack(service.port, buttonBody('approval_approve', KEY, 'UALICE'));
    await service.slack!.receiver.idle();
    await service.maintenance(new Date(Date.now() + 73 * 3600_000));
    await service.github!.drain();
    await service.slack!.pump.runNow();
    const update = slack.filter((c) => c.method === 'chat.update').at(-1)!;
    const blocks = JSON.parse(update.body.blocks);
    expect(blocks.at(-1)).toEqual({ type: 'section', text: { type: 'mrkdwn', text: '*Expired*' } });
    expect(blocks.some((b: any) => b.type === 'actions')).toBe(false);
    // The core decided it at the deadline: expiry never approves, and this gate rejects on expiry.
    expect(gh.checks.at(-1)).toMatchObject({ conclusion: 'failure' });
    expect(gh.checks.at(-1).output.title).toMatch(
      /^Rejected: gate `default` expired at .* \(expiry never approves\)$/,
    );
    const late = await postSlack(service.port, buttonBody('approval_approve', KEY, 'UBOB'));
    expect(late.status).toBe(200);
    await service.slack!.receiver.idle();
    expect(
      dbOf(service.runtime.ledger)
        .prepare(
          "SELECT json_extract(payload, '$.reason') AS r FROM ledger_entries WHERE type = 'approval.click' ORDER BY seq DESC LIMIT 1",
        )
        .get(),
    ).toEqual({
      r: 'this request was already expired',
    });
  });

  it('answers the URL check and publishes the App Home with the agents and the pending approvals', async () => {
    const { slack } = await openApprovalRequest();
    const challenge = JSON.stringify({ type: 'url_verification', challenge: 'abc123', token: 'x' });
    const res = await postSlack(service.port, challenge, {
      ...slackHeaders(challenge),
      'content-type': 'application/json',
    });
    expect(await res.json()).toEqual({ challenge: 'abc123' });
    const home = JSON.stringify({
      type: 'event_callback',
      team_id: 'T0001',
      api_app_id: 'A0001',
      event_id: 'Ev0001',
      event_time: 1700000000,
      event: {
        type: 'app_home_opened',
        user: 'UALICE',
        channel: 'D0001',
        tab: 'home',
        event_ts: '1700000000.1',
      },
    });
    expect(
      (await postSlack(service.port, home, { ...slackHeaders(home), 'content-type': 'application/json' }))
        .status,
    ).toBe(200);
    await service.slack!.receiver.idle();
    await service.slack!.pump.runNow();
    const publish = slack.find((c) => c.method === 'views.publish')!;
    expect(publish.body.user_id).toBe('UALICE');
    const text = JSON.stringify(JSON.parse(publish.body.view));
    expect(text).toContain('`builder-bot` T2 builder, active');
    expect(text).toContain(
      'Codertocat/Hello-World#2> by `builder-bot`: gate default needs 2 more approval(s) from alice, bob, carol',
    );
  });
});

describe('promotion votes in Slack', () => {
  it('posts a promotion request with buttons, counts approvers once, refuses others, and applies at the quorum', async () => {
    const slack = slackApi();
    const res = (await (
      await postSlack(service.port, commandBody('promote builder-bot', 'UADMIN'))
    ).json()) as any;
    expect(res.text).toMatch(/^promo-builder-bot-\d+: T2 → T3 requested; needs 2 approval\(s\)\.$/);
    const id = /^(promo-builder-bot-\d+)/.exec(res.text)![1]!;
    await service.slack!.pump.runNow();
    const post = slack.find((c) => c.method === 'chat.postMessage' && c.body.channel === 'C0APPROVALS')!;
    expect(JSON.parse(post.body.blocks)[0].text.text).toBe('Promotion: builder-bot T2 → T3');

    await postSlack(service.port, buttonBody('promotion_approve', id, 'UMALLORY'));
    await postSlack(service.port, buttonBody('promotion_approve', id, 'UOLIVIA'));
    await postSlack(service.port, buttonBody('promotion_approve', id, 'UALICE'));
    await postSlack(service.port, buttonBody('promotion_approve', id, 'UALICE', '999.1'));
    await service.slack!.receiver.idle();
    expect(await service.runtime.state.getAgent('builder-bot')).toMatchObject({ tier: 'T2' });
    await postSlack(service.port, buttonBody('promotion_approve', id, 'UBOB'));
    await service.slack!.receiver.idle();
    await service.slack!.pump.runNow();
    expect(await service.runtime.state.getAgent('builder-bot')).toMatchObject({ tier: 'T3' });
    const told = slack
      .filter((c) => c.method === 'chat.postEphemeral')
      .map((c) => [c.body.user, c.body.text]);
    expect(told).toEqual([
      [
        'UMALLORY',
        'Not counted: your Slack user is not mapped to a GitHub login in the organisation config.',
      ],
      ['UOLIVIA', `Not counted: olivia cannot approve ${id}: the agent's owner may not approve this gate.`],
      ['UALICE', `Not counted: alice already voted on ${id}.`],
    ]);
    const last = JSON.parse(slack.filter((c) => c.method === 'chat.update').at(-1)!.body.blocks);
    expect(last.at(-1)).toEqual({ type: 'section', text: { type: 'mrkdwn', text: '*Applied*' } });
  });
});

describe('suggestions in Slack', () => {
  it('/agent suggest offers a suggested promotion as a button that an admin turns into a request, once', async () => {
    const slack = slackApi();
    const res = (await (await postSlack(service.port, commandBody('suggest', 'UALICE'))).json()) as any;
    expect(res.response_type).toBe('ephemeral');
    const offer = res.blocks.find((b: any) => b.accessory);
    expect(offer.text.text).toMatch(/^• promote builder-bot to T3: T2 → T3: every threshold met/);
    expect(offer.accessory).toMatchObject({
      action_id: 'suggestion_request_promotion',
      value: 'builder-bot:T3',
      text: { text: 'Request T3' },
    });

    // A non-admin's click is refused and recorded; nothing is requested.
    await postSlack(service.port, buttonBody('suggestion_request_promotion', 'builder-bot:T3', 'UALICE'));
    // An admin's click requests it; a second click finds it already waiting.
    await postSlack(service.port, buttonBody('suggestion_request_promotion', 'builder-bot:T3', 'UADMIN'));
    await service.slack!.receiver.idle();
    await postSlack(
      service.port,
      buttonBody('suggestion_request_promotion', 'builder-bot:T3', 'UADMIN', '2.2'),
    );
    await service.slack!.receiver.idle();
    await service.slack!.pump.runNow();

    const db = dbOf(service.runtime.ledger);
    const requests = db
      .prepare("SELECT actor, payload FROM ledger_entries WHERE type = 'promotion.requested'")
      .all() as any[];
    expect(requests).toHaveLength(1);
    expect(requests[0].actor).toBe('slack:UADMIN');
    const id = JSON.parse(requests[0].payload).promotionId;
    expect(
      db
        .prepare(
          "SELECT actor, json_extract(payload, '$.path') AS what FROM ledger_entries WHERE type = 'api.refused'",
        )
        .all(),
    ).toEqual([{ actor: 'UALICE', what: '/agent promote builder-bot (suggestion)' }]);
    expect(
      slack.filter((c) => c.method === 'chat.postEphemeral').map((c) => [c.body.user, c.body.text]),
    ).toEqual([
      ['UALICE', 'Not requested: the organisation config does not let you run /agent promote.'],
      ['UADMIN', `${id}: T2 → T3 requested; needs 2 approval(s).`],
      [
        'UADMIN',
        `Not requested: builder-bot already has promotion ${id} waiting for approval; one at a time.`,
      ],
    ]);
    // The request went to the approvers as any other.
    const post = slack.find((c) => c.method === 'chat.postMessage' && c.body.channel === 'C0APPROVALS')!;
    expect(JSON.parse(post.body.blocks)[0].text.text).toBe('Promotion: builder-bot T2 → T3');
  });
});

describe('approver digests', () => {
  it('a flood of requests reaches each approver as one direct message, without those decided meanwhile', async () => {
    await service.stop();
    service = await startWith(`${ORG}  approver_digest: { window_seconds: 2 }\n`);
    const gh = github(POLICY);
    const slack = slackApi();
    const shaOf = (n: number) => String(n).repeat(40).slice(0, 40);
    for (const n of [2, 3, 4]) {
      const pr = structuredClone(gh.pr);
      pr.pull_request.number = n;
      pr.pull_request.head.sha = shaOf(n);
      pr.pull_request.title = `Bump left-pad (${n})`;
      pr.pull_request.html_url = `https://github.com/Codertocat/Hello-World/pull/${n}`;
      gh.pulls.set(n, pr.pull_request);
      await postWebhook(service.port, 'pull_request', pr);
    }
    await service.github!.drain();
    await service.slack!.pump.runNow();
    const cards = slack.filter((c) => c.method === 'chat.postMessage' && c.body.channel === 'C0APPROVALS');
    expect(cards).toHaveLength(3);
    const dms = () => slack.filter((c) => c.method === 'chat.postMessage' && c.body.channel.startsWith('U'));
    expect(dms()).toEqual([]); // the window is open: the digest waits for what follows

    // Meanwhile the request for #2 is decided by two approvers.
    await postSlack(
      service.port,
      buttonBody('approval_approve', `Codertocat/Hello-World#2@${shaOf(2)}`, 'UALICE'),
    );
    await postSlack(
      service.port,
      buttonBody('approval_approve', `Codertocat/Hello-World#2@${shaOf(2)}`, 'UBOB'),
    );
    await service.slack!.receiver.idle();
    await new Promise((r) => setTimeout(r, 2100));
    await service.slack!.pump.runNow();

    // One message per approver who may vote (the owner olivia may not on this gate), listing the two left.
    expect(
      dms()
        .map((c) => c.body.channel)
        .sort(),
    ).toEqual(['UALICE', 'UBOB', 'UCAROL']);
    for (const dm of dms()) {
      const blocks = JSON.parse(dm.body.blocks);
      expect(blocks[0].text.text).toBe('2 approval request(s) wait for you');
      expect(blocks.slice(1, 3).map((b: any) => b.text.text.split('\n')[0])).toEqual([
        '*<https://github.com/Codertocat/Hello-World/pull/3|Codertocat/Hello-World#3>* Bump left-pad (3)',
        '*<https://github.com/Codertocat/Hello-World/pull/4|Codertocat/Hello-World#4>* Bump left-pad (4)',
      ]);
      expect(blocks.at(-1).elements[0].text).toBe('Vote with the buttons on each request in <#C0APPROVALS>.');
    }
    // Sent once: another pass sends nothing more.
    await service.slack!.pump.runNow();
    expect(dms()).toHaveLength(3);
    expect(service.runtime.ledger.outbox.pendingCount('slack')).toBe(0);
  });
});

describe('a council from a Slack user group', () => {
  it('reads the group into the ledger, and only its mapped members count toward the quorum', async () => {
    await service.stop();
    service = await startWith(
      `${ORG.replace('thresholds: { T3:', 'approvals: { T3: council }\n  thresholds: { T3:')}council: { slack_usergroup: S0COUNCIL, quorum: 2 }\n`,
    );
    // The Web API client POSTs usergroups.users.list form-encoded, with the bot token.
    const listed: any[] = [];
    nock('https://slack.com', { reqheaders: { authorization: 'Bearer xoxb-test-token' } })
      .post('/api/usergroups.users.list')
      .reply(200, (_uri, body: any) => {
        listed.push(Object.fromEntries(new URLSearchParams(body)));
        return { ok: true, users: ['UALICE', 'UBOB', 'UZED'] };
      });
    const slack = slackApi();
    await service.maintenance();
    await service.maintenance(); // read again only after 5 minutes; nothing changed anyway
    const db = dbOf(service.runtime.ledger);
    expect(
      db
        .prepare("SELECT payload FROM ledger_entries WHERE type = 'council.membership'")
        .all()
        .map((r: any) => JSON.parse(r.payload)),
    ).toEqual([{ usergroup: 'S0COUNCIL', members: ['alice', 'bob'], unmapped: ['UZED'] }]);
    expect(listed).toEqual([{ usergroup: 'S0COUNCIL' }]);

    const res = (await (
      await postSlack(service.port, commandBody('promote builder-bot', 'UADMIN'))
    ).json()) as any;
    expect(res.text).toMatch(/^promo-builder-bot-\d+: T2 → T3 requested; needs the council \(2\)\.$/);
    const id = /^(promo-builder-bot-\d+)/.exec(res.text)![1]!;
    await postSlack(service.port, buttonBody('promotion_approve', id, 'UCAROL'));
    await postSlack(service.port, buttonBody('promotion_approve', id, 'UALICE'));
    await service.slack!.receiver.idle();
    expect(await service.runtime.state.getAgent('builder-bot')).toMatchObject({ tier: 'T2' });
    await postSlack(service.port, buttonBody('promotion_approve', id, 'UBOB'));
    await service.slack!.receiver.idle();
    await service.slack!.pump.runNow();
    expect(await service.runtime.state.getAgent('builder-bot')).toMatchObject({ tier: 'T3' });
    expect(
      slack.filter((c) => c.method === 'chat.postEphemeral').map((c) => [c.body.user, c.body.text]),
    ).toEqual([['UCAROL', `Not counted: carol cannot approve ${id}: not a council member.`]]);
  });
});

describe('who may run which command', () => {
  it('slack.commands replaces the default for a command: listed users only, admins included or not', async () => {
    await service.stop();
    service = await startWith(`${ORG}  commands: { revoke: [UALICE], status: [UADMIN] }\n`);
    slackApi();
    const run = async (text: string, user: string) =>
      ((await (await postSlack(service.port, commandBody(text, user))).json()) as any).text as string;
    expect(await run('revoke builder-bot leaked a key', 'UADMIN')).toBe(
      'You may not run `/agent revoke`: the organisation config names who may (slack.commands.revoke).',
    );
    expect(await run('status builder-bot', 'UALICE')).toBe(
      'You may not run `/agent status`: the organisation config names who may (slack.commands.status).',
    );
    expect(await run('list', 'UALICE')).toMatch(/^`builder-bot` T2 builder, active/);
    expect(await run('pause builder-bot', 'UADMIN')).toBe('`builder-bot` paused.');
    expect(await run('revoke builder-bot leaked a key', 'UALICE')).toMatch(/^Revoked `builder-bot`/);
    const refused = dbOf(service.runtime.ledger)
      .prepare(
        "SELECT actor, json_extract(payload, '$.path') AS what FROM ledger_entries WHERE type = 'api.refused'",
      )
      .all();
    expect(refused).toEqual([
      { actor: 'UADMIN', what: '/agent revoke' },
      { actor: 'UALICE', what: '/agent status' },
    ]);
  });
});
