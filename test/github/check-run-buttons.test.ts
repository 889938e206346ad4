/**
 * The buttons on a waiting `Agent Governance` check (issue 17, item 6): "Re-evaluate" and "Ask
 * approvers again". A click arrives as a signed `check_run.requested_action` delivery (the real
 * example from @octokit/webhooks-examples) at the webhook endpoint; who clicked is checked against
 * the waiting gates and the PR's author, every click is recorded in the ledger, and GitHub and
 * Slack are stubbed at their documented paths.
 */
import nock from 'nock';
import { describe, expect, it } from 'vitest';
import type { RunningService } from '../../src/app/service.js';
import { API, examplePayload, postWebhook, useGithubService } from '../helpers/github.js';
import { REPO } from '../helpers/github-reads.js';
import { buttonBody, postSlack } from '../helpers/slack.js';
import { github, slackApi } from '../helpers/slack-service.js';
import { KEY, POLICY, SHA, ORG as SLACK_ORG, slackSuite } from '../helpers/slack-suite.js';

/** The Slack suite's organisation, plus an agent that is a machine user and one tied by trailer. */
const ORG = SLACK_ORG.replace(
  'agents:\n',
  `agents:
  - { id: ops-agent, tier: T1, owner: olivia, github_logins: ["ops-agent"] }
  - { id: claude-helper, tier: T2, owner: olivia, trailers: ["Claude <noreply@anthropic.com>"] }
`,
);
const BUTTONS = [
  { label: 'Re-evaluate', description: 'Decide this pull request again now', identifier: 'reevaluate' },
  { label: 'Ask approvers again', description: 'Remind the approvers in Slack', identifier: 'ask_approvers' },
];
const APP_ID = 123; // APP_ID of the service under test
const OLD_SHA = 'b'.repeat(40);

interface ClickOptions {
  appId?: number;
  /** The clicked check run's id (700: the one this app wrote on SHA). */
  checkRunId?: number;
  name?: string;
  sha?: string;
}

/** The documented `check_run.requested_action` example, made a click on PR #2's check. */
function click(identifier: string, sender: string, o: ClickOptions = {}) {
  const payload = examplePayload('check_run', 'requested_action');
  payload.installation = { id: 1 };
  payload.repository = examplePayload('pull_request', 'opened').repository;
  payload.check_run.name = o.name ?? 'Agent Governance';
  payload.check_run.head_sha = o.sha ?? SHA;
  payload.check_run.app.id = o.appId ?? APP_ID;
  payload.check_run.id = o.checkRunId ?? 700;
  payload.check_run.pull_requests = [{ ...payload.check_run.pull_requests[0], number: 2 }];
  payload.requested_action = { identifier };
  payload.sender.login = sender;
  return payload;
}

/** GitHub for PR #2 under `policy` (its commits when given), recording every call. */
function githubFor(policy = POLICY, commits?: unknown[]) {
  // Registered first, so it answers before the general stand-in.
  if (commits) nock(API).persist().get(`${REPO}/pulls/2/commits`).query(true).reply(200, commits);
  return github(policy);
}

/** What deciding PR #2 again costs: the PR, its files, the policy (cached: not read), the check write. */
const DECIDED_AGAIN = [
  `GET ${REPO}/pulls/2`,
  `GET ${REPO}/pulls/2/files?per_page=100`,
  `PATCH ${REPO}/check-runs/700`,
];

async function settle(service: RunningService) {
  await service.github!.drain();
  await service.followLedger();
  await service.slack?.pump.runNow();
}

/** Every recorded click, in order, as the audit reads it. */
function clicks(service: RunningService) {
  return service.runtime.store.reader.all(`SELECT actor, json_extract(payload, '$.sender') AS sender, json_extract(payload, '$.identifier') AS identifier,
              json_extract(payload, '$.button') AS button, json_extract(payload, '$.accepted') AS accepted,
              json_extract(payload, '$.outcome') AS outcome, json_extract(payload, '$.number') AS number
         FROM ledger_entries WHERE type = 'check_run.button' ORDER BY seq`);
}

function decisions(service: RunningService) {
  return service.runtime.store.reader.all(
    "SELECT json_extract(payload, '$.trigger') AS trigger, json_extract(payload, '$.outcome') AS outcome FROM ledger_entries WHERE type = 'decision.recorded' ORDER BY seq",
  );
}

const posts = (slack: { method: string; body: any }[]) =>
  slack.filter((c) => c.method === 'chat.postMessage');

describe('with Slack', () => {
  const s = slackSuite(ORG);

  /** builder-bot's PR #2 waits for two approvals; its card is posted. */
  async function waitingPr() {
    const gh = githubFor();
    const slack = slackApi();
    await postWebhook(s.service.port, 'pull_request', gh.pr);
    await settle(s.service);
    gh.calls.splice(0); // from here on: only what the clicks cost
    return { gh, slack };
  }

  async function press(identifier: string, sender: string, o: ClickOptions & { deliveryId?: string } = {}) {
    const res = await postWebhook(s.service.port, 'check_run', click(identifier, sender, o), {
      ...(o.deliveryId ? { deliveryId: o.deliveryId } : {}),
    });
    await settle(s.service);
    return res;
  }

  it('the waiting check carries both buttons in its one write', async () => {
    const { gh } = await waitingPr();
    expect(gh.checks).toHaveLength(1);
    expect(gh.checks[0]).toMatchObject({ conclusion: 'action_required', actions: BUTTONS });
    for (const b of BUTTONS) {
      expect(b.label.length).toBeLessThanOrEqual(20);
      expect(b.description.length).toBeLessThanOrEqual(40);
      expect(b.identifier.length).toBeLessThanOrEqual(20);
    }
  });

  it('an agent pressing either button is refused and recorded, and nothing else happens', async () => {
    const { gh, slack } = await waitingPr();
    const before = {
      checks: gh.checks.length,
      posts: posts(slack).length,
      decisions: await decisions(s.service),
    };
    await press('reevaluate', 'builder-bot[bot]'); // the PR's own agent
    await press('ask_approvers', 'builder-bot[bot]');
    await press('reevaluate', 'ops-agent'); // another registered agent, a machine user without [bot]
    await press('ask_approvers', 'ops-agent');
    const refused = 'an agent presses no button on a check';
    expect(await clicks(s.service)).toEqual([
      {
        actor: 'builder-bot[bot]',
        sender: 'builder-bot[bot]',
        identifier: 'reevaluate',
        button: 'reevaluate',
        accepted: 0,
        outcome: refused,
        number: 2,
      },
      {
        actor: 'builder-bot[bot]',
        sender: 'builder-bot[bot]',
        identifier: 'ask_approvers',
        button: 'ask_approvers',
        accepted: 0,
        outcome: refused,
        number: 2,
      },
      {
        actor: 'ops-agent',
        sender: 'ops-agent',
        identifier: 'reevaluate',
        button: 'reevaluate',
        accepted: 0,
        outcome: refused,
        number: 2,
      },
      {
        actor: 'ops-agent',
        sender: 'ops-agent',
        identifier: 'ask_approvers',
        button: 'ask_approvers',
        accepted: 0,
        outcome: refused,
        number: 2,
      },
    ]);
    expect(gh.calls).toEqual([]);
    expect(gh.checks).toHaveLength(before.checks);
    expect(posts(slack)).toHaveLength(before.posts);
    expect(await decisions(s.service)).toEqual(before.decisions);
  });

  it('a stranger, a forged identifier and a click on another app’s check are refused and recorded', async () => {
    const { gh, slack } = await waitingPr();
    const before = {
      checks: gh.checks.length,
      posts: posts(slack).length,
      decisions: await decisions(s.service),
    };
    await press('reevaluate', 'mallory'); // no approver of the gate, not the author
    await press('approve', 'alice'); // an identifier this app never offers
    await press('ask_approvers', 'alice', { appId: 999 }); // a check of the same name by another app
    await press('reevaluate', 'alice', { name: 'ci/test' }); // another check of this app's installation
    await press('reevaluate', 'alice', { sha: OLD_SHA }); // the check of an older commit
    expect(
      (await clicks(s.service)).map((c: any) => [c.sender, c.identifier, c.button, c.accepted, c.outcome]),
    ).toEqual([
      [
        'mallory',
        'reevaluate',
        'reevaluate',
        0,
        'only an approver named by a waiting gate, or the pull request’s author, may press it',
      ],
      ['alice', 'approve', null, 0, 'unknown button `approve`'],
      ['alice', 'ask_approvers', null, 0, 'not this app’s Agent Governance check'],
      ['alice', 'reevaluate', null, 0, 'not this app’s Agent Governance check'],
      ['alice', 'reevaluate', 'reevaluate', 0, 'the check is for an older commit: the pull request moved on'],
    ]);
    expect(gh.calls).toEqual([]);
    expect(gh.checks).toHaveLength(before.checks);
    expect(posts(slack)).toHaveLength(before.posts);
    expect(await decisions(s.service)).toEqual(before.decisions);
  });

  it('a click on another check run of the commit (same name, app, commit and sender) is refused and recorded', async () => {
    const { gh, slack } = await waitingPr();
    const before = {
      checks: gh.checks.length,
      posts: posts(slack).length,
      decisions: await decisions(s.service),
    };
    await press('reevaluate', 'alice', { checkRunId: 701 }); // ours is 700
    await press('ask_approvers', 'alice', { checkRunId: 1e20 });
    const refused = 'not the check run this app wrote on the commit';
    expect((await clicks(s.service)).map((c: any) => [c.sender, c.button, c.accepted, c.outcome])).toEqual([
      ['alice', 'reevaluate', 0, refused],
      ['alice', 'ask_approvers', 0, refused],
    ]);
    expect(gh.calls).toEqual([]);
    expect(gh.checks).toHaveLength(before.checks);
    expect(posts(slack)).toHaveLength(before.posts);
    expect(await decisions(s.service)).toEqual(before.decisions);
  });

  it('a click without its identifier or sender, or with an identifier GitHub never sends, is refused at the edge', async () => {
    await waitingPr();
    const noIdentifier = click('reevaluate', 'alice');
    delete noIdentifier.requested_action;
    const noSender = click('reevaluate', 'alice');
    delete noSender.sender;
    const answers = [];
    for (const payload of [noIdentifier, noSender, click('x'.repeat(101), 'alice')]) {
      const res = await postWebhook(s.service.port, 'check_run', payload);
      answers.push([res.status, ((await res.json()) as { error: string }).error]);
    }
    await settle(s.service);
    expect(answers).toEqual([
      [400, 'bad_payload'],
      [400, 'bad_payload'],
      [400, 'bad_payload'],
    ]);
    expect(await clicks(s.service)).toEqual([]);
    expect(await decisions(s.service)).toHaveLength(1);
  });

  it('a replayed delivery is acknowledged and does nothing twice', async () => {
    const { slack } = await waitingPr();
    const first = await press('ask_approvers', 'alice', { deliveryId: 'd-ask-1' });
    const replay = await press('ask_approvers', 'alice', { deliveryId: 'd-ask-1' });
    expect(first.status).toBe(202);
    expect(replay.status).toBe(200);
    expect(await replay.json()).toEqual({ ok: true, duplicate: true });
    expect(await clicks(s.service)).toHaveLength(1);
    expect(posts(slack).filter((p) => p.body.thread_ts)).toHaveLength(1);
  });

  it('an approver asks again: one reminder in the card’s thread naming who may still approve', async () => {
    const { gh, slack } = await waitingPr();
    const card = posts(slack)[0]!;
    await press('ask_approvers', 'alice');
    const reminders = posts(slack).slice(1);
    expect(reminders).toHaveLength(1);
    expect(reminders[0]!.body).toMatchObject({
      channel: 'C0APPROVALS',
      thread_ts: card.body.ts ?? '1700000000.000100',
      reply_broadcast: 'true',
    });
    expect(reminders[0]!.body.text).toBe(
      '<@UALICE> <@UBOB> <@UCAROL> alice asks again: <https://github.com/Codertocat/Hello-World/pull/2|Codertocat/Hello-World#2> by `builder-bot` waits for approval. gate `default` needs 2 more approval(s) from alice, bob, carol.',
    );
    expect(await clicks(s.service)).toEqual([
      expect.objectContaining({
        sender: 'alice',
        button: 'ask_approvers',
        accepted: 1,
        outcome: 'the approvers are reminded in Slack',
      }),
    ]);
    expect(gh.calls).toEqual([]); // asking people costs GitHub nothing
    // Queued from the click's ledger entry (by the consequences follower), not from the handler.
    const db = s.service.runtime.store.reader;
    const reminder = await db.all(
      "SELECT seq, status FROM outbox WHERE idempotency_key LIKE 'slack:asked-again:%'",
    );
    const clickSeq = (await db.get("SELECT seq FROM ledger_entries WHERE type = 'check_run.button'")) as {
      seq: number;
    };
    expect(reminder).toEqual([{ seq: clickSeq.seq, status: 'delivered' }]);

    // Asking again at once pages nobody a second time.
    await press('ask_approvers', 'bob');
    expect(posts(slack)).toHaveLength(2);
    expect(((await clicks(s.service))[1] as any).outcome).toMatch(
      /^the approvers were asked again at .* by alice; ask again after .*$/,
    );
  });

  it('an approver presses Re-evaluate: the PR is decided again, in one check write', async () => {
    const { gh } = await waitingPr();
    await press('reevaluate', 'bob');
    expect(gh.calls).toEqual(DECIDED_AGAIN);
    expect(await decisions(s.service)).toEqual([
      { trigger: 'pull_request.opened', outcome: 'require_approval' },
      { trigger: 'check_run.requested_action', outcome: 'require_approval' },
    ]);
    expect(gh.checks).toHaveLength(2);
    expect(gh.checks[1]).toMatchObject({ conclusion: 'action_required', actions: BUTTONS });
    expect(await clicks(s.service)).toEqual([
      expect.objectContaining({
        sender: 'bob',
        button: 'reevaluate',
        accepted: 1,
        outcome: 'the pull request is decided again',
      }),
    ]);
  });

  it('a check of a PR from a fork names no PR: the click is about the PR decided at its commit', async () => {
    const { gh } = await waitingPr();
    const fromFork = click('reevaluate', 'bob');
    fromFork.check_run.pull_requests = []; // GitHub lists no PR from a fork on its check run
    await postWebhook(s.service.port, 'check_run', fromFork);
    await settle(s.service);
    expect(await clicks(s.service)).toEqual([
      expect.objectContaining({ sender: 'bob', number: 2, accepted: 1 }),
    ]);
    expect(gh.calls).toEqual(DECIDED_AGAIN);
  });

  it('GitHub failing after the click was recorded: the retry decides the PR once and records the click once', async () => {
    // Registered before the stand-in: the first read of the PR (the click's re-decision) fails.
    const failing = nock(API).get(`${REPO}/pulls/2`).reply(503, { message: 'Service Unavailable' });
    const { gh } = await waitingPr();
    await press('reevaluate', 'alice');
    expect(failing.isDone()).toBe(true);
    expect(gh.calls).toEqual(DECIDED_AGAIN); // the failed read was not the stand-in's: this is the retry
    expect(await clicks(s.service)).toEqual([expect.objectContaining({ sender: 'alice', accepted: 1 })]);
    expect(await decisions(s.service)).toEqual([
      { trigger: 'pull_request.opened', outcome: 'require_approval' },
      { trigger: 'check_run.requested_action', outcome: 'require_approval' },
    ]);
  });

  it('once the check no longer waits its buttons go, and a late click is refused in its button’s words', async () => {
    const { gh } = await waitingPr();
    for (const user of ['UALICE', 'UBOB'])
      await postSlack(s.service.port, buttonBody('approval_approve', KEY, user));
    await s.service.slack!.receiver.idle();
    await settle(s.service);
    expect(gh.checks.at(-1)).toMatchObject({ conclusion: 'success', actions: [] });
    await press('reevaluate', 'alice');
    await press('ask_approvers', 'alice');
    expect(await clicks(s.service)).toEqual([
      expect.objectContaining({ accepted: 0, outcome: 'the check no longer waits: its decision is final' }),
      expect.objectContaining({
        accepted: 0,
        outcome: 'the check no longer waits: asking again cannot change it',
      }),
    ]);
  });

  it('the author, when a person, may press Re-evaluate; the agent tied by a trailer may not', async () => {
    const gh = githubFor(POLICY, [
      { sha: 'c1', commit: { message: 'Bump\n\nCo-Authored-By: Claude <noreply@anthropic.com>' } },
    ]);
    gh.pr.pull_request.user.login = 'dave';
    slackApi();
    await postWebhook(s.service.port, 'pull_request', gh.pr);
    await settle(s.service);
    expect(await decisions(s.service)).toEqual([
      { trigger: 'pull_request.opened', outcome: 'require_approval' },
    ]);
    await press('reevaluate', 'dave');
    await press('reevaluate', 'claude-helper');
    expect((await clicks(s.service)).map((c: any) => [c.sender, c.accepted, c.outcome])).toEqual([
      ['dave', 1, 'the pull request is decided again'],
      ['claude-helper', 0, 'an agent presses no button on a check'],
    ]);
    expect(await decisions(s.service)).toEqual([
      { trigger: 'pull_request.opened', outcome: 'require_approval' },
      { trigger: 'check_run.requested_action', outcome: 'require_approval' },
    ]);
  });
});

describe('without Slack', () => {
  const ctx = useGithubService();

  it('Ask approvers again is recorded as reaching nobody, and changes nothing', async () => {
    const gh = githubFor('gates:\n  default: { approvals: 1 }\n');
    await postWebhook(ctx.service.port, 'pull_request', gh.pr);
    await ctx.service.github!.drain();
    gh.calls.splice(0);
    expect(gh.checks).toEqual([expect.objectContaining({ conclusion: 'action_required', actions: BUTTONS })]);
    await postWebhook(ctx.service.port, 'check_run', click('ask_approvers', 'alice'));
    await settle(ctx.service);
    expect(await clicks(ctx.service)).toEqual([
      expect.objectContaining({
        sender: 'alice',
        button: 'ask_approvers',
        accepted: 0,
        outcome: 'nobody was asked: Slack is not configured (SLACK_BOT_TOKEN)',
      }),
    ]);
    expect(gh.calls).toEqual([]);
    expect(gh.checks).toHaveLength(1);
  });
});
