import nock from 'nock';
import { describe, expect, it } from 'vitest';
import { API, agentPullRequest, file, postWebhook, useGithubService } from '../helpers/github.js';
import { REPO } from '../helpers/github-reads.js';
import { builderPr, github, review, SHA_A, SHA_B } from './pr-fakes.js';

const ctx = useGithubService();

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
    const approvals = await ctx.service.runtime.store.reader.all(
      'SELECT approver, verdict, head_sha FROM approvals ORDER BY seq',
    );
    expect(approvals).toEqual([
      { approver: 'mallory', verdict: 'approve', head_sha: SHA_A },
      { approver: 'alice', verdict: 'approve', head_sha: SHA_A },
    ]);
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
    const count = async () =>
      ((await ctx.service.runtime.store.reader.get('SELECT COUNT(*) AS n FROM decisions')) as { n: number })
        .n;
    expect(await count()).toBe(1);
    await ctx.service.github!.reconcileNow();
    expect(await count()).toBe(1);
  });
});
