import nock from 'nock';
import { describe, expect, it } from 'vitest';
import { dbOf } from '../../src/ledger/ledger.js';
import { Watcher } from '../../src/watchers/watcher.js';
import {
  API,
  agentPullRequest,
  examplePayload,
  file,
  postWebhook,
  useGithubService,
} from '../helpers/github.js';
import { REPO } from '../helpers/github-reads.js';
import { github, SHA_A, SHA_B } from './pr-fakes.js';

const ctx = useGithubService();

const MERGE = 'e'.repeat(40);
const db = () => dbOf(ctx.service.runtime.ledger);
const badOutcomes = () =>
  db()
    .prepare("SELECT agent_id, payload FROM ledger_entries WHERE type = 'pr.bad_outcome' ORDER BY seq")
    .all()
    .map((r: any) => ({ agent: r.agent_id, ...JSON.parse(r.payload) }));

/** docs-bot's PR #2, gated and merged as commit MERGE. */
async function mergedAgentPr() {
  github([file('docs/a.md', '@@ -1 +1 @@\n+x')]);
  await postWebhook(ctx.service.port, 'pull_request', agentPullRequest('opened', { sha: SHA_A }));
  const closed = agentPullRequest('closed', { sha: SHA_A });
  closed.pull_request.merged = true;
  closed.pull_request.merge_commit_sha = MERGE;
  await postWebhook(ctx.service.port, 'pull_request', closed);
  await ctx.service.github!.drain();
}

/** A human's PR #9 made with GitHub's Revert button, merged. */
function revertPr(body: string) {
  const revert = agentPullRequest('closed', { sha: SHA_B, login: 'octocat' });
  revert.pull_request.number = 9;
  revert.pull_request.title = 'Revert "Update the README with new information."';
  revert.pull_request.body = body;
  revert.pull_request.merged = true;
  return revert;
}

/** A finished check suite on `branch` at `sha`, naming no PR. */
function suiteOn(branch: string, sha: string, conclusion = 'failure') {
  const suite = examplePayload('check_suite', 'completed');
  suite.repository = agentPullRequest().repository;
  suite.check_suite.head_branch = branch;
  suite.check_suite.head_sha = sha;
  suite.check_suite.conclusion = conclusion;
  suite.check_suite.pull_requests = [];
  return suite;
}

/** A finished workflow run on `branch` at `sha`, naming no PR (a push to the branch ran it). */
function workflowOn(branch: string, sha: string, conclusion = 'failure') {
  const run = examplePayload('workflow_run', 'completed');
  run.repository = agentPullRequest().repository;
  run.workflow_run.name = 'CI';
  run.workflow_run.head_branch = branch;
  run.workflow_run.head_sha = sha;
  run.workflow_run.conclusion = conclusion;
  run.workflow_run.pull_requests = [];
  return run;
}

describe('a merged agent PR and its CI results', () => {
  it('records a merged agent PR at its tier, and a failed CI suite as a ci_failure that charges the budget', async () => {
    github([file('docs/a.md', '@@ -1 +1 @@\n+x')]);
    const pr = agentPullRequest('opened', { sha: SHA_A });
    await postWebhook(ctx.service.port, 'pull_request', pr);
    await ctx.service.github!.drain();

    const suite = examplePayload('check_suite', 'completed');
    suite.installation = { id: 1 };
    suite.repository = pr.repository;
    suite.check_suite.conclusion = 'failure';
    suite.check_suite.head_sha = SHA_A;
    suite.check_suite.pull_requests = [{ number: 2, head: { sha: SHA_A } }];
    await postWebhook(ctx.service.port, 'check_suite', suite);
    // The same failure reported again (a redelivery with a new id) is not charged twice.
    await postWebhook(ctx.service.port, 'check_suite', suite);
    await ctx.service.github!.drain();

    const closed = agentPullRequest('closed', { sha: SHA_A });
    closed.pull_request.merged = true;
    await postWebhook(ctx.service.port, 'pull_request', closed);
    await ctx.service.github!.drain();

    const db = dbOf(ctx.service.runtime.ledger);
    expect(db.prepare('SELECT type, severity, consequence, budget_charge FROM violations').all()).toEqual([
      { type: 'ci_failure', severity: 'low', consequence: 'charge_budget', budget_charge: 1 },
    ]);
    expect(
      db
        .prepare("SELECT merged_prs_at_tier, merged_prs_total FROM agent_metrics WHERE agent_id = 'docs-bot'")
        .get(),
    ).toEqual({
      merged_prs_at_tier: 1,
      merged_prs_total: 1,
    });
    expect(await ctx.service.runtime.state.budgetUsed('docs-bot', 0)).toBe(1);
  });
});

describe('a merged PR made with the Revert button counts against the PR it undoes', () => {
  it('a merged agent PR reverted with the Revert button counts once, and blocks its promotion', async () => {
    await mergedAgentPr();
    const revert = revertPr('Reverts Codertocat/Hello-World#2\n\nIt broke the docs build.');
    await postWebhook(ctx.service.port, 'pull_request', revert);
    await postWebhook(ctx.service.port, 'pull_request', revert); // a second delivery of the same merge
    await ctx.service.github!.drain();
    expect(badOutcomes()).toEqual([
      {
        agent: 'docs-bot',
        repository: 'Codertocat/Hello-World',
        number: 2,
        outcome: 'reverted',
        evidence: 'reverted by #9',
      },
    ]);
    const suggestions = await new Watcher(ctx.service.runtime.governance).suggestions();
    expect(suggestions).toContainEqual({
      kind: 'demote',
      agentId: 'docs-bot',
      evidence: [
        '1 merged PR(s) reverted or broke the default branch: Codertocat/Hello-World#2 reverted by #9',
      ],
    });
    await expect(ctx.service.promotions.request('docs-bot', 'alice', { kind: 'promotion' })).rejects.toThrow(
      /merged PR reverted or broke the default branch 0\.0 days ago/,
    );
  });

  it('a PR that says it reverts an agent PR but changes other files counts against nobody', async () => {
    // The human's PR #9 names #2 (docs/a.md) but changes the CI workflow and a source file.
    nock(API)
      .get(`${REPO}/pulls/9/files`)
      .query(true)
      .reply(200, [
        file('.github/workflows/ci.yml', '@@ -1 +1 @@\n+x'),
        file('src/pay.ts', '@@ -1 +1 @@\n+x', 'added'),
      ]);
    await mergedAgentPr();
    await postWebhook(ctx.service.port, 'pull_request', revertPr('Reverts Codertocat/Hello-World#2'));
    await ctx.service.github!.drain();
    expect(badOutcomes()).toEqual([]);
  });

  it('a revert PR naming another repository, or a PR no agent wrote, counts against nobody', async () => {
    await mergedAgentPr();
    await postWebhook(ctx.service.port, 'pull_request', revertPr('Reverts someone/else#2'));
    await ctx.service.github!.drain();
    const human = revertPr('Reverts Codertocat/Hello-World#7');
    await postWebhook(ctx.service.port, 'pull_request', human);
    await ctx.service.github!.drain();
    expect(badOutcomes()).toEqual([]);
  });
});

describe('a git revert pushed to the default branch counts against the PR it undoes', () => {
  it('a git revert on the default branch that changes other files than the merge counts against nobody', async () => {
    await mergedAgentPr();
    const push = examplePayload('push', undefined as any);
    push.installation = { id: 1 };
    push.repository = agentPullRequest().repository;
    push.ref = 'refs/heads/master';
    push.commits = [
      {
        id: 'f'.repeat(40),
        message: `Revert "docs"\n\nThis reverts commit ${MERGE}.`,
        added: [],
        removed: ['src/pay.ts'],
        modified: ['README.md'],
      },
    ];
    await postWebhook(ctx.service.port, 'push', push);
    await ctx.service.github!.drain();
    expect(badOutcomes()).toEqual([]);
  });

  it('a git revert pushed to the default branch counts; one on another branch, or of a human PR, does not', async () => {
    await mergedAgentPr();
    const push = examplePayload('push', undefined as any);
    push.installation = { id: 1 };
    push.repository = agentPullRequest().repository;
    push.ref = 'refs/heads/feature';
    push.commits = [{ id: 'f'.repeat(40), message: `Revert "docs"\n\nThis reverts commit ${MERGE}.` }];
    // Acknowledged, not stored: a push elsewhere, or one that reverts nothing, cannot matter.
    expect(await (await postWebhook(ctx.service.port, 'push', push)).json()).toEqual({
      ok: true,
      ignored: 'a push to a branch other than the default',
    });
    push.ref = 'refs/heads/master';
    push.commits = [{ id: 'e'.repeat(40), message: 'Fix a typo' }];
    expect(await (await postWebhook(ctx.service.port, 'push', push)).json()).toEqual({
      ok: true,
      ignored: 'a push that reverts nothing',
    });
    push.commits = [{ id: 'f'.repeat(40), message: `Revert "x"\n\nThis reverts commit ${'9'.repeat(40)}.` }];
    await postWebhook(ctx.service.port, 'push', push);
    await ctx.service.github!.drain();
    expect(badOutcomes()).toEqual([]);
    const pushes = db()
      .prepare(
        "SELECT COUNT(*) AS n FROM ledger_entries WHERE type = 'delivery.received' AND json_extract(payload, '$.event') = 'push'",
      )
      .get();
    expect(pushes).toEqual({ n: 1 }); // only the revert of a commit no agent wrote was stored

    push.commits = [
      {
        id: 'f'.repeat(40),
        message: `Revert "docs"\n\nThis reverts commit ${MERGE}.`,
        added: [],
        removed: [],
        modified: ['docs/a.md'],
      },
    ];
    await postWebhook(ctx.service.port, 'push', push);
    await ctx.service.github!.drain();
    expect(badOutcomes()).toMatchObject([
      { agent: 'docs-bot', number: 2, evidence: 'reverted by commit fffffff' },
    ]);
  });
});

describe('CI failing on the default branch at a merge counts against the merged PR', () => {
  it('CI failing on the default branch at the merge counts as breaking it; elsewhere or passing it does not', async () => {
    await mergedAgentPr();
    for (const suite of [
      suiteOn('master', MERGE, 'success'),
      suiteOn('feature', MERGE),
      suiteOn('master', '9'.repeat(40)),
    ])
      await postWebhook(ctx.service.port, 'check_suite', suite);
    await ctx.service.github!.drain();
    expect(badOutcomes()).toEqual([]);

    await postWebhook(ctx.service.port, 'check_suite', suiteOn('master', MERGE));
    await postWebhook(ctx.service.port, 'check_suite', suiteOn('master', MERGE));
    await ctx.service.github!.drain();
    expect(badOutcomes()).toEqual([
      {
        agent: 'docs-bot',
        repository: 'Codertocat/Hello-World',
        number: 2,
        outcome: 'broke_default_branch',
        evidence: 'broke master: a check suite failure at eeeeeee',
      },
    ]);
  });

  it('a workflow run failing on the default branch at the merge counts too, naming the workflow', async () => {
    await mergedAgentPr();
    await postWebhook(ctx.service.port, 'workflow_run', workflowOn('master', MERGE, 'success'));
    await postWebhook(ctx.service.port, 'workflow_run', workflowOn('feature', MERGE));
    await ctx.service.github!.drain();
    expect(badOutcomes()).toEqual([]);

    await postWebhook(ctx.service.port, 'workflow_run', workflowOn('master', MERGE, 'timed_out'));
    await ctx.service.github!.drain();
    expect(badOutcomes()).toEqual([
      {
        agent: 'docs-bot',
        repository: 'Codertocat/Hello-World',
        number: 2,
        outcome: 'broke_default_branch',
        evidence: 'broke master: workflow "CI" timed_out at eeeeeee',
      },
    ]);
  });
});
