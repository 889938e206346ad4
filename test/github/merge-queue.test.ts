import nock from 'nock';
import { describe, expect, it } from 'vitest';
import {
  API,
  agentPullRequest,
  examplePayload,
  file,
  postWebhook,
  useGithubService,
} from '../helpers/github.js';
import { REPO } from '../helpers/github-reads.js';
import { builderPr, github, review, SHA_A, SHA_B } from './pr-fakes.js';

const ctx = useGithubService();

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

describe('merge queues', () => {
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
    const recorded = (
      await ctx.service.runtime.store.reader.all(
        "SELECT payload FROM ledger_entries WHERE type = 'merge_group.checked'",
      )
    ).map((r: any) => JSON.parse(r.payload));
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
});
