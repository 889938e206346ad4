import nock from 'nock';
import { describe, expect, it } from 'vitest';
import { dbOf } from '../../src/ledger/ledger.js';
import { Watcher } from '../../src/watchers/watcher.js';
import {
  API,
  agentPullRequest,
  examplePayload,
  file,
  githubApi,
  postWebhook,
  useGithubService,
} from '../helpers/github.js';
import { REPO } from '../helpers/github-reads.js';

const ctx = useGithubService();

const SHA_A = 'a'.repeat(40);
const SHA_B = 'b'.repeat(40);

/** Reads answered for any number of evaluations, and every check-run call recorded. */
function github(files: unknown[]) {
  githubApi();
  const calls: any[] = [];
  const ids: Record<string, number> = {};
  let next = 500;
  nock(API)
    .persist()
    .get(`${REPO}/contents/.github%2Fagent-governance.yml`)
    .query(true)
    .reply(404, {})
    .get('/repos/Codertocat/.github/contents/.github%2Fagent-governance.yml')
    .reply(404, {})
    .get(/\/repos\/Codertocat\/Hello-World\/pulls\/\d+\/commits/)
    .query(true)
    .reply(200, [{ sha: 'c', commit: { message: 'bump' } }])
    .get(/\/repos\/Codertocat\/Hello-World\/pulls\/\d+\/files/)
    .query(true)
    .reply(200, files)
    .post(`${REPO}/check-runs`)
    .reply(201, (_u, body: any) => {
      ids[body.head_sha] = next++;
      calls.push({ sha: body.head_sha, ...body });
      return { id: ids[body.head_sha] };
    })
    .patch(/\/check-runs\/\d+$/)
    .reply(200, (uri, body: any) => {
      const id = Number(uri.split('/').pop());
      calls.push({ sha: Object.keys(ids).find((s) => ids[s] === id), ...body });
      return { id };
    });
  const last = (sha: string) => calls.filter((c) => c.sha === sha && c.status === 'completed').at(-1);
  return { calls, last };
}

function builderPr(action: string, sha: string) {
  return agentPullRequest(action, { sha, login: 'builder-bot[bot]' });
}

function review(login: string, sha: string) {
  const payload = examplePayload('pull_request_review', 'submitted');
  payload.installation = { id: 1 };
  payload.repository = agentPullRequest().repository;
  payload.pull_request = builderPr('opened', sha).pull_request;
  payload.review.state = 'approved';
  payload.review.user.login = login;
  payload.review.commit_id = sha;
  return payload;
}

describe('approvals are receipts for one head commit', () => {
  it('an approving review passes the gate, and a new push needs a new approval', async () => {
    const gh = github([file('package.json', '@@ -1 +1 @@\n+"left-pad": "1.3.0"')]);
    await postWebhook(ctx.service.port, 'pull_request', builderPr('opened', SHA_A));
    await ctx.service.github!.drain();
    expect(gh.last(SHA_A)).toMatchObject({ conclusion: 'action_required' });
    expect(gh.last(SHA_A).output.summary).toContain('| gate | `dependencies` | ✋ needs approval |');

    await postWebhook(ctx.service.port, 'pull_request_review', review('mallory', SHA_A));
    await ctx.service.github!.drain();
    expect(gh.last(SHA_A)).toMatchObject({ conclusion: 'action_required' });

    await postWebhook(ctx.service.port, 'pull_request_review', review('alice', SHA_A));
    await ctx.service.github!.drain();
    expect(gh.last(SHA_A)).toMatchObject({ conclusion: 'success', output: { title: 'Approved by alice' } });

    await postWebhook(ctx.service.port, 'pull_request', builderPr('synchronize', SHA_B));
    await ctx.service.github!.drain();
    expect(gh.last(SHA_B)).toMatchObject({ conclusion: 'action_required' });
    const approvals = dbOf(ctx.service.runtime.ledger)
      .prepare('SELECT approver, verdict, head_sha FROM approvals ORDER BY seq')
      .all();
    expect(approvals).toEqual([
      { approver: 'mallory', verdict: 'approve', head_sha: SHA_A },
      { approver: 'alice', verdict: 'approve', head_sha: SHA_A },
    ]);
  });
});

/** A `merge_group.checks_requested` delivery for the queue entry of PR #`number` on `master`. */
function mergeGroup(number: number, headSha: string, baseSha = '0'.repeat(40)) {
  const group = examplePayload('merge_group', 'checks_requested');
  group.repository = agentPullRequest().repository;
  group.merge_group.head_ref = `refs/heads/gh-readonly-queue/master/pr-${number}-${SHA_A}`;
  group.merge_group.base_ref = 'refs/heads/master';
  group.merge_group.head_sha = headSha;
  group.merge_group.base_sha = baseSha;
  return group;
}

/** An open PR as `GET /commits/{sha}/pulls` lists it. */
function openPr(number: number, sha: string, login: string) {
  const pr = agentPullRequest('opened', { sha, login }).pull_request;
  pr.number = number;
  return pr;
}

/**
 * The reads that tell which PRs a merge group holds: the commits between its base and head, and the
 * open PRs each commit belongs to (`commits` maps a commit to those PRs; the queue's own merge
 * commit belongs to none).
 */
function groupReads(group: Record<string, any>, commits: Record<string, unknown[]>) {
  const { base_sha, head_sha } = group.merge_group;
  const shas = [...Object.keys(commits), head_sha];
  const scope = nock(API)
    .get(`${REPO}/compare/${base_sha}...${head_sha}`)
    .query(true)
    .reply(200, {
      status: 'ahead',
      total_commits: shas.length,
      commits: shas.map((sha) => ({ sha, commit: { message: 'x' }, parents: [] })),
    })
    .get(`${REPO}/commits/${head_sha}/pulls`)
    .query(true)
    .reply(200, []);
  for (const [sha, prs] of Object.entries(commits))
    scope.get(`${REPO}/commits/${sha}/pulls`).query(true).reply(200, prs);
  return scope;
}

describe('merge queues, merges and CI results', () => {
  it('fails a merge group whose PR has not passed, and passes one whose PR did', async () => {
    const gh = github([file('package.json', '@@ -1 +1 @@\n+x')]);
    const pr = builderPr('opened', SHA_A);
    pr.pull_request.number = 2;
    await postWebhook(ctx.service.port, 'pull_request', pr);
    await ctx.service.github!.drain();
    const group = mergeGroup(2, 'c'.repeat(40));
    const reads = groupReads(group, { [SHA_A]: [openPr(2, SHA_A, 'builder-bot[bot]')] });
    await postWebhook(ctx.service.port, 'merge_group', group);
    await ctx.service.github!.drain();
    expect(gh.last('c'.repeat(40))).toMatchObject({
      name: 'Agent Governance',
      conclusion: 'failure',
      output: { title: 'PR #2 has not passed Agent Governance' },
    });
    expect(reads.isDone()).toBe(true);

    await postWebhook(ctx.service.port, 'pull_request_review', review('bob', SHA_A));
    await ctx.service.github!.drain();
    const passing = mergeGroup(2, 'd'.repeat(40));
    groupReads(passing, { [SHA_A]: [openPr(2, SHA_A, 'builder-bot[bot]')] });
    await postWebhook(ctx.service.port, 'merge_group', passing);
    await ctx.service.github!.drain();
    expect(gh.last('d'.repeat(40))).toMatchObject({
      conclusion: 'success',
      output: { title: 'Every PR in this merge group passed Agent Governance' },
    });
  });

  it('fails the queue entry of a PR that was allowed before its agent was revoked, and records why', async () => {
    const gh = github([file('docs/a.md', '@@ -1 +1 @@\n+x')]);
    await postWebhook(ctx.service.port, 'pull_request', agentPullRequest('opened', { sha: SHA_A }));
    await ctx.service.github!.drain();
    expect(gh.last(SHA_A)).toMatchObject({ conclusion: 'success' });
    await ctx.service.revocations.revoke('docs-bot', 'leaked a deploy key', 'alice');
    await ctx.service.github!.drain();

    const group = mergeGroup(2, 'c'.repeat(40));
    groupReads(group, { [SHA_A]: [openPr(2, SHA_A, 'docs-bot[bot]')] });
    await postWebhook(ctx.service.port, 'merge_group', group);
    await ctx.service.github!.drain();
    const check = gh.last('c'.repeat(40));
    expect(check).toMatchObject({
      conclusion: 'failure',
      output: { title: 'PR #2 has not passed Agent Governance' },
    });
    expect(check.output.summary).toContain('| #2 | `docs-bot` | ❌ agent `docs-bot` is revoked |');
    const recorded = dbOf(ctx.service.runtime.ledger)
      .prepare("SELECT payload FROM ledger_entries WHERE type = 'merge_group.checked'")
      .all()
      .map((r: any) => JSON.parse(r.payload));
    expect(recorded).toMatchObject([
      {
        repository: 'Codertocat/Hello-World',
        headSha: 'c'.repeat(40),
        conclusion: 'failure',
        pullRequests: [
          { number: 2, agentId: 'docs-bot', passed: false, reason: 'agent `docs-bot` is revoked' },
        ],
      },
    ]);
  });

  it('fails a group of two PRs when the one its branch does not name has not passed', async () => {
    // #3 (builder-bot) changes a dependency file and waits for an approval; #2 (docs-bot) passed.
    nock(API)
      .get(`${REPO}/pulls/3/files`)
      .query(true)
      .reply(200, [file('package.json', '@@ -1 +1 @@\n+"left-pad": "1.3.0"')]);
    const gh = github([file('docs/a.md', '@@ -1 +1 @@\n+x')]);
    const three = builderPr('opened', SHA_B);
    three.pull_request.number = 3;
    await postWebhook(ctx.service.port, 'pull_request', three);
    await postWebhook(ctx.service.port, 'pull_request', agentPullRequest('opened', { sha: SHA_A }));
    await ctx.service.github!.drain();
    expect(gh.last(SHA_B)).toMatchObject({ conclusion: 'action_required' });
    expect(gh.last(SHA_A)).toMatchObject({ conclusion: 'success' });

    // The queue entry of #2 sits on top of #3's: both PRs' commits are in it.
    const group = mergeGroup(2, 'c'.repeat(40));
    groupReads(group, {
      [SHA_B]: [openPr(3, SHA_B, 'builder-bot[bot]')],
      [SHA_A]: [openPr(2, SHA_A, 'docs-bot[bot]')],
    });
    await postWebhook(ctx.service.port, 'merge_group', group);
    await ctx.service.github!.drain();
    const check = gh.last('c'.repeat(40));
    expect(check).toMatchObject({
      conclusion: 'failure',
      output: { title: 'PR #3 has not passed Agent Governance' },
    });
    expect(check.output.summary).toContain('| #2 | `docs-bot` | ✅ allow |');
    expect(check.output.summary).toContain('| #3 | `builder-bot` | ❌ require_approval |');
  });

  it('fails a group whose PRs cannot be found, saying so', async () => {
    const gh = github([]);
    const group = mergeGroup(2, 'c'.repeat(40));
    group.merge_group.head_ref = 'refs/heads/gh-readonly-queue/master/not-a-pr';
    groupReads(group, {});
    await postWebhook(ctx.service.port, 'merge_group', group);
    await ctx.service.github!.drain();
    expect(gh.last('c'.repeat(40))).toMatchObject({
      conclusion: 'failure',
      output: {
        title: 'The PRs in this merge group could not be determined',
      },
    });

    // GitHub refuses the comparison (a base it does not know): the group fails with GitHub's answer.
    const refused = mergeGroup(2, 'd'.repeat(40));
    nock(API)
      .get(`${REPO}/compare/${'0'.repeat(40)}...${'d'.repeat(40)}`)
      .query(true)
      .reply(404, { message: 'No common ancestor between the commits' });
    await postWebhook(ctx.service.port, 'merge_group', refused);
    await ctx.service.github!.drain();
    const check = gh.last('d'.repeat(40));
    expect(check).toMatchObject({
      conclusion: 'failure',
      output: { title: 'The PRs in this merge group could not be determined' },
    });
    expect(check.output.summary).toContain('HTTP 404: No common ancestor between the commits');
  });

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

describe('outcomes after the merge count against the agent', () => {
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

  function suiteOn(branch: string, sha: string, conclusion = 'failure') {
    const suite = examplePayload('check_suite', 'completed');
    suite.repository = agentPullRequest().repository;
    suite.check_suite.head_branch = branch;
    suite.check_suite.head_sha = sha;
    suite.check_suite.conclusion = conclusion;
    suite.check_suite.pull_requests = [];
    return suite;
  }

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
    const suggestions = new Watcher(ctx.service.runtime.governance).suggestions();
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

describe('reconciliation', () => {
  it('evaluates open agent PRs whose check is missing (a lost webhook), and leaves current ones alone', async () => {
    const gh = github([file('docs/a.md', '@@ -1 +1 @@\n+x')]);
    const pr = agentPullRequest('opened', { sha: SHA_A }).pull_request;
    nock(API)
      .get('/app/installations')
      .query(true)
      .times(2)
      .reply(200, [{ id: 1, account: { login: 'Codertocat' } }])
      .get('/installation/repositories')
      .query(true)
      .times(2)
      .reply(200, { total_count: 1, repositories: [agentPullRequest().repository] })
      .get(`${REPO}/pulls`)
      .query({ state: 'open', per_page: 100 })
      .times(2)
      .reply(200, [pr]);
    await ctx.service.github!.reconcileNow();
    await ctx.service.github!.drain();
    expect(gh.last(SHA_A)).toMatchObject({ conclusion: 'success' });
    const count = () =>
      (dbOf(ctx.service.runtime.ledger).prepare('SELECT COUNT(*) AS n FROM decisions').get() as { n: number })
        .n;
    expect(count()).toBe(1);
    await ctx.service.github!.reconcileNow();
    expect(count()).toBe(1);
  });
});
