/** The cards people read in Slack: the approval request, its updates, expiry, and approver digests. */

import nock from 'nock';
import { describe, expect, it } from 'vitest';
import { sqliteOf } from '../../src/app/open-runtime.js';
import { dbOf } from '../../src/ledger/ledger.js';
import { postWebhook } from '../helpers/github.js';
import { buttonBody, postSlack } from '../helpers/slack.js';
import { github, slackApi } from '../helpers/slack-service.js';
import { cardText, KEY, ORG, openApprovalRequest, POLICY, slackSuite } from '../helpers/slack-suite.js';

const s = slackSuite();

describe('the approval card', () => {
  it('posts the request with the facts and the buttons when a gate needs people', async () => {
    const { slack } = await openApprovalRequest(s.service);
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
    // The card as approvers read it (the deadline moves with the clock).
    expect(post.body.text).toBe('Approval needed: Codertocat/Hello-World#2 by builder-bot');
    expect(cardText(post)).toMatchInlineSnapshot(`
      "# Approval needed: Codertocat/Hello-World#2
      *<https://github.com/Codertocat/Hello-World/pull/2|Update the README with new information.>*
      *Agent* \`builder-bot\` | *Tier* T2 builder | *Diff* 1 files, 1 lines | *Needs* 2 approver(s)
      *Why*
      • dependency file(s) changed: \`package.json\`
      > Deadline <time>; expiry never approves.
      ⏳ gate default needs 2 more approval(s) from alice, bob, carol
      [Approve (approval_approve, primary): Codertocat/Hello-World#2@aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa] [Reject (approval_reject, danger): Codertocat/Hello-World#2@aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa]"
    `);
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
    await postWebhook(s.service.port, 'pull_request', gh.pr);
    await s.service.github!.drain();
    for (let i = 0; i < 20 && sent.length === 0; i++) {
      await s.service.slack!.pump.runNow();
      await new Promise((r) => setTimeout(r, 30));
    }
    await s.service.slack!.pump.runNow();
    expect(sent).toHaveLength(1);
    const row = dbOf(sqliteOf(s.service.runtime))
      .prepare("SELECT status, attempts FROM outbox WHERE target = 'slack'")
      .get();
    expect(row).toEqual({ status: 'delivered', attempts: 3 });
  });
});

describe('expiry', () => {
  it('expiry never approves: the buttons go, and the check fails when the gate rejects on expiry', async () => {
    const { gh, slack } = await openApprovalRequest(s.service);
    await postSlack(s.service.port, buttonBody('approval_approve', KEY, 'UALICE'));
    await s.service.slack!.receiver.idle();
    await s.service.maintenance(new Date(Date.now() + 73 * 3600_000));
    await s.service.github!.drain();
    await s.service.slack!.pump.runNow();
    const update = slack.filter((c) => c.method === 'chat.update').at(-1)!;
    const blocks = JSON.parse(update.body.blocks);
    expect(blocks.at(-1)).toEqual({ type: 'section', text: { type: 'mrkdwn', text: '*Expired*' } });
    expect(blocks.some((b: any) => b.type === 'actions')).toBe(false);
    expect(update.body.text).toBe('Approval for Codertocat/Hello-World#2 expired');
    expect(cardText(update)).toMatchInlineSnapshot(`
      "# Approval needed: Codertocat/Hello-World#2
      *<https://github.com/Codertocat/Hello-World/pull/2|Update the README with new information.>*
      *Agent* \`builder-bot\` | *Tier* T2 builder | *Diff* 1 files, 1 lines | *Needs* 2 approver(s)
      *Why*
      • dependency file(s) changed: \`package.json\`
      > Deadline <time>; expiry never approves.
      ✅ alice
      *Expired*"
    `);
    // The core decided it at the deadline: expiry never approves, and this gate rejects on expiry.
    expect(gh.checks.at(-1)).toMatchObject({ conclusion: 'failure' });
    expect(gh.checks.at(-1).output.title).toMatch(
      /^Rejected: gate `default` expired at .* \(expiry never approves\)$/,
    );
    const late = await postSlack(s.service.port, buttonBody('approval_approve', KEY, 'UBOB'));
    expect(late.status).toBe(200);
    await s.service.slack!.receiver.idle();
    expect(
      dbOf(sqliteOf(s.service.runtime))
        .prepare(
          "SELECT json_extract(payload, '$.reason') AS r FROM ledger_entries WHERE type = 'approval.click' ORDER BY seq DESC LIMIT 1",
        )
        .get(),
    ).toEqual({
      r: 'this request was already expired',
    });
  });
});

const shaOf = (n: number) => String(n).repeat(40).slice(0, 40);

/** The agent's PRs #2, #3 and #4 opened at once, each waiting for two approvers. */
async function openThreeRequests() {
  const gh = github(POLICY);
  for (const n of [2, 3, 4]) {
    const pr = structuredClone(gh.pr);
    pr.pull_request.number = n;
    pr.pull_request.head.sha = shaOf(n);
    pr.pull_request.title = `Bump left-pad (${n})`;
    pr.pull_request.html_url = `https://github.com/Codertocat/Hello-World/pull/${n}`;
    gh.pulls.set(n, pr.pull_request);
    await postWebhook(s.service.port, 'pull_request', pr);
  }
}

describe('approver digests', () => {
  it('a flood of requests reaches each approver as one direct message, without those decided meanwhile', async () => {
    await s.restart(`${ORG}  approver_digest: { window_seconds: 2 }\n`);
    const slack = slackApi();
    await openThreeRequests();
    await s.service.github!.drain();
    await s.service.slack!.pump.runNow();
    const cards = slack.filter((c) => c.method === 'chat.postMessage' && c.body.channel === 'C0APPROVALS');
    expect(cards).toHaveLength(3);
    const dms = () => slack.filter((c) => c.method === 'chat.postMessage' && c.body.channel.startsWith('U'));
    expect(dms()).toEqual([]); // the window is open: the digest waits for what follows

    // Meanwhile the request for #2 is decided by two approvers.
    for (const user of ['UALICE', 'UBOB'])
      await postSlack(
        s.service.port,
        buttonBody('approval_approve', `Codertocat/Hello-World#2@${shaOf(2)}`, user),
      );
    await s.service.slack!.receiver.idle();
    await new Promise((r) => setTimeout(r, 2100));
    await s.service.slack!.pump.runNow();

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
    const alice = dms().find((c) => c.body.channel === 'UALICE')!;
    expect(alice.body.text).toBe('2 approval request(s) wait for you');
    expect(cardText(alice)).toMatchInlineSnapshot(`
      "# 2 approval request(s) wait for you
      *<https://github.com/Codertocat/Hello-World/pull/3|Codertocat/Hello-World#3>* Bump left-pad (3)
      \`builder-bot\` T2 builder, 1 file(s), 1 line(s); gate default needs 2 more approval(s) from alice, bob, carol, by <time>
      *<https://github.com/Codertocat/Hello-World/pull/4|Codertocat/Hello-World#4>* Bump left-pad (4)
      \`builder-bot\` T2 builder, 1 file(s), 1 line(s); gate default needs 2 more approval(s) from alice, bob, carol, by <time>
      > Vote with the buttons on each request in <#C0APPROVALS>."
    `);
    // Sent once: another pass sends nothing more.
    await s.service.slack!.pump.runNow();
    expect(dms()).toHaveLength(3);
    expect(sqliteOf(s.service.runtime).outbox.pendingCount('slack')).toBe(0);
  });
});
