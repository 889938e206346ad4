/** Approve, Reject with its reason, and who is counted: the approval buttons on a request's card. */

import { describe, expect, it } from 'vitest';
import { sqliteOf } from '../../src/app/open-runtime.js';
import { dbOf } from '../../src/ledger/ledger.js';
import { buttonBody, postSlack, viewSubmissionBody } from '../helpers/slack.js';
import { KEY, openApprovalRequest, SHA, slackSuite } from '../helpers/slack-suite.js';

const s = slackSuite();

const clicks = () =>
  dbOf(sqliteOf(s.service.runtime))
    .prepare(
      "SELECT json_extract(payload, '$.slackUser') AS u, json_extract(payload, '$.githubLogin') AS l, json_extract(payload, '$.accepted') AS ok, json_extract(payload, '$.reason') AS r FROM ledger_entries WHERE type = 'approval.click'",
    )
    .all() as { u: string; l: string | null; ok: number; r: string }[];

describe('who is counted', () => {
  it('refuses a non-approver and the owner with an ephemeral explanation, and records each click', async () => {
    const { service } = s;
    const { slack } = await openApprovalRequest(service);
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
    expect(clicks().map(({ u, l, ok }) => ({ u, l, ok }))).toEqual([
      { u: 'UMALLORY', l: null, ok: 0 },
      { u: 'UOLIVIA', l: 'olivia', ok: 0 },
    ]);
  });
});

describe('two approvers at once', () => {
  it('two approvers clicking at once on a 2-of-3 gate: one decision, recorded once, the check passes once', async () => {
    const { service } = s;
    const { gh, slack } = await openApprovalRequest(service);
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
    const db = dbOf(sqliteOf(service.runtime));
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
    expect(updates.at(-1)!.body.text).toBe('Approval for Codertocat/Hello-World#2: approved');
  });
});

describe('Reject', () => {
  it('Reject asks for a reason in a modal, and the rejection fails the check', async () => {
    const { service } = s;
    const { gh, slack } = await openApprovalRequest(service);
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
});

describe('forged button values', () => {
  it.each([
    ['no key at all', 'approve-everything'],
    ['a second commit after the key', `${KEY}@${'b'.repeat(40)}`],
    ['another PR smuggled into the repository', `Codertocat/Hello-World#2@${SHA}/x#3@${SHA}`],
    ['the number with a leading zero', `Codertocat/Hello-World#02@${SHA}`],
    ['a trailing newline', `${KEY}\n`],
    ['an abbreviated commit', `Codertocat/Hello-World#2@${SHA.slice(0, 7)}`],
  ])(
    'a forged button value (%s) is refused as an unknown request and counts for nothing',
    async (_n, forged) => {
      const { service } = s;
      const { gh, slack } = await openApprovalRequest(service);
      const checks = gh.checks.length;
      for (const user of ['UALICE', 'UBOB'])
        await postSlack(service.port, buttonBody('approval_approve', forged, user));
      await postSlack(service.port, viewSubmissionBody(forged, 'UCAROL', 'forged reject'));
      await service.slack!.receiver.idle();
      await service.github!.drain();
      await service.slack!.pump.runNow();
      expect(clicks().map(({ u, ok, r }) => [u, ok, r])).toEqual(
        ['UALICE', 'UBOB', 'UCAROL'].map((u) => [
          u,
          0,
          'this approval request is not known (it may be for an older commit)',
        ]),
      );
      const db = dbOf(sqliteOf(service.runtime));
      expect(db.prepare('SELECT COUNT(*) AS n FROM approvals').get()).toEqual({ n: 0 });
      expect(db.prepare('SELECT state FROM slack_approvals WHERE approval_key = ?').all(KEY)).toEqual([
        { state: 'pending' },
      ]);
      expect(gh.checks.slice(checks)).toEqual([]);
      expect(slack.filter((c) => c.method === 'chat.update')).toEqual([]);
    },
  );
});

describe('a request resolved in the ledger', () => {
  it('is over for a later vote and for expiry even while its state row still says pending', async () => {
    const { service } = s;
    const { slack } = await openApprovalRequest(service);
    await postSlack(service.port, buttonBody('approval_approve', KEY, 'UALICE'));
    await postSlack(service.port, buttonBody('approval_approve', KEY, 'UBOB'));
    await service.slack!.receiver.idle();
    const db = dbOf(sqliteOf(service.runtime));
    // The moment between a deciding vote's commit and its state row following it.
    db.prepare("UPDATE slack_approvals SET state = 'pending'").run();
    await postSlack(service.port, buttonBody('approval_approve', KEY, 'UCAROL'));
    await service.slack!.receiver.idle();
    expect(await service.slack!.expireApprovals(new Date(Date.now() + 30 * 86400_000))).toBe(0);
    await service.slack!.pump.runNow();
    expect(clicks().at(-1)).toMatchObject({ u: 'UCAROL', l: 'carol', ok: 0 });
    expect(slack.filter((c) => c.method === 'chat.postEphemeral').at(-1)!.body.text).toBe(
      'Not counted: this request was already approved.',
    );
    expect(
      db.prepare("SELECT COUNT(*) AS n FROM ledger_entries WHERE type = 'approval.resolved'").get(),
    ).toEqual({ n: 1 });
  });
});
