/** Promotion requests in Slack: the vote buttons, suggested promotions, and a council read from a user group. */

import nock from 'nock';
import { describe, expect, it } from 'vitest';
import { sqliteOf } from '../../src/app/open-runtime.js';
import { dbOf } from '../../src/ledger/ledger.js';
import { buttonBody, commandBody, postSlack } from '../helpers/slack.js';
import { slackApi } from '../helpers/slack-service.js';
import { ORG, slackSuite } from '../helpers/slack-suite.js';

const s = slackSuite();

describe('promotion votes in Slack', () => {
  it('posts a promotion request with buttons, counts approvers once, refuses others, and applies at the quorum', async () => {
    const slack = slackApi();
    const res = (await (
      await postSlack(s.service.port, commandBody('promote builder-bot', 'UADMIN'))
    ).json()) as any;
    expect(res.text).toMatch(/^promo-builder-bot-\d+: T2 → T3 requested; needs 2 approval\(s\)\.$/);
    const id = /^(promo-builder-bot-\d+)/.exec(res.text)![1]!;
    await s.service.slack!.pump.runNow();
    const post = slack.find((c) => c.method === 'chat.postMessage' && c.body.channel === 'C0APPROVALS')!;
    expect(JSON.parse(post.body.blocks)[0].text.text).toBe('Promotion: builder-bot T2 → T3');

    await postSlack(s.service.port, buttonBody('promotion_approve', id, 'UMALLORY'));
    await postSlack(s.service.port, buttonBody('promotion_approve', id, 'UOLIVIA'));
    await postSlack(s.service.port, buttonBody('promotion_approve', id, 'UALICE'));
    await postSlack(s.service.port, buttonBody('promotion_approve', id, 'UALICE', '999.1'));
    await s.service.slack!.receiver.idle();
    expect(await s.service.runtime.state.getAgent('builder-bot')).toMatchObject({ tier: 'T2' });
    await postSlack(s.service.port, buttonBody('promotion_approve', id, 'UBOB'));
    await s.service.slack!.receiver.idle();
    await s.service.slack!.pump.runNow();
    expect(await s.service.runtime.state.getAgent('builder-bot')).toMatchObject({ tier: 'T3' });
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
    const res = (await (await postSlack(s.service.port, commandBody('suggest', 'UALICE'))).json()) as any;
    expect(res.response_type).toBe('ephemeral');
    const offer = res.blocks.find((b: any) => b.accessory);
    expect(offer.text.text).toMatch(/^• promote builder-bot to T3: T2 → T3: every threshold met/);
    expect(offer.accessory).toMatchObject({
      action_id: 'suggestion_request_promotion',
      value: 'builder-bot:T3',
      text: { text: 'Request T3' },
    });

    // A non-admin's click is refused and recorded; nothing is requested.
    await postSlack(s.service.port, buttonBody('suggestion_request_promotion', 'builder-bot:T3', 'UALICE'));
    // An admin's click requests it; a second click finds it already waiting.
    await postSlack(s.service.port, buttonBody('suggestion_request_promotion', 'builder-bot:T3', 'UADMIN'));
    await s.service.slack!.receiver.idle();
    await postSlack(
      s.service.port,
      buttonBody('suggestion_request_promotion', 'builder-bot:T3', 'UADMIN', '2.2'),
    );
    await s.service.slack!.receiver.idle();
    await s.service.slack!.pump.runNow();

    const db = dbOf(sqliteOf(s.service.runtime));
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

describe('a council from a Slack user group', () => {
  it('reads the group into the ledger, and only its mapped members count toward the quorum', async () => {
    await s.restart(
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
    await s.service.maintenance();
    await s.service.maintenance(); // read again only after 5 minutes; nothing changed anyway
    const db = dbOf(sqliteOf(s.service.runtime));
    expect(
      db
        .prepare("SELECT payload FROM ledger_entries WHERE type = 'council.membership'")
        .all()
        .map((r: any) => JSON.parse(r.payload)),
    ).toEqual([{ usergroup: 'S0COUNCIL', members: ['alice', 'bob'], unmapped: ['UZED'] }]);
    expect(listed).toEqual([{ usergroup: 'S0COUNCIL' }]);

    const res = (await (
      await postSlack(s.service.port, commandBody('promote builder-bot', 'UADMIN'))
    ).json()) as any;
    expect(res.text).toMatch(/^promo-builder-bot-\d+: T2 → T3 requested; needs the council \(2\)\.$/);
    const id = /^(promo-builder-bot-\d+)/.exec(res.text)![1]!;
    await postSlack(s.service.port, buttonBody('promotion_approve', id, 'UCAROL'));
    await postSlack(s.service.port, buttonBody('promotion_approve', id, 'UALICE'));
    await s.service.slack!.receiver.idle();
    expect(await s.service.runtime.state.getAgent('builder-bot')).toMatchObject({ tier: 'T2' });
    await postSlack(s.service.port, buttonBody('promotion_approve', id, 'UBOB'));
    await s.service.slack!.receiver.idle();
    await s.service.slack!.pump.runNow();
    expect(await s.service.runtime.state.getAgent('builder-bot')).toMatchObject({ tier: 'T3' });
    expect(
      slack.filter((c) => c.method === 'chat.postEphemeral').map((c) => [c.body.user, c.body.text]),
    ).toEqual([['UCAROL', `Not counted: carol cannot approve ${id}: not a council member.`]]);
  });
});
