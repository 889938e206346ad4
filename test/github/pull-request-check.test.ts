import nock from 'nock';
import { describe, expect, it } from 'vitest';
import { API, agentPullRequest, file, githubApi, postWebhook, useGithubService } from '../helpers/github.js';

const REPO = '/repos/Codertocat/Hello-World';
const ctx = useGithubService();

/**
 * The reads every evaluation makes: no policy file anywhere, the PR's files, and its commits only
 * when its author is no agent login (a trailer is then the only tie to an agent).
 */
function prReads(files: unknown[], commits: unknown[] | null = null) {
  const scope = nock(API)
    .get(`${REPO}/contents/.github%2Fagent-governance.yml`)
    .query({ ref: 'master' })
    .reply(404, { message: 'Not Found' })
    .get('/repos/Codertocat/.github/contents/.github%2Fagent-governance.yml')
    .reply(404, { message: 'Not Found' })
    .get(`${REPO}/pulls/2/files`)
    .query({ per_page: 100 })
    .reply(200, files);
  if (commits) scope.get(`${REPO}/pulls/2/commits`).query({ per_page: 100 }).reply(200, commits);
  return scope;
}

describe('an agent PR gets an Agent Governance check', () => {
  it('passes a T1 docs change: one check run created as success, with a summary table', async () => {
    githubApi();
    const reads = prReads([file('docs/README.md', '@@ -1,1 +1,2 @@\n # Hello\n+More words')]);
    const bodies: any[] = [];
    const checks = nock(API)
      .post(`${REPO}/check-runs`, (body) => bodies.push(body) > 0)
      .reply(201, { id: 77 });

    const res = await postWebhook(ctx.service.port, 'pull_request', agentPullRequest());
    expect(res.status).toBe(202);
    await ctx.service.github!.settle();

    expect(reads.isDone()).toBe(true);
    expect(checks.isDone()).toBe(true);
    // Decided at once: no `queued` or `in_progress` first.
    expect(bodies).toHaveLength(1);
    expect(bodies[0]).toMatchObject({
      name: 'Agent Governance',
      head_sha: 'ec26c3e57ca3a959ca5aad62de7213c562f8c821',
      status: 'completed',
      conclusion: 'success',
      output: { title: 'Allowed: every rule passed', annotations: [] },
    });
    expect(bodies[0].output.summary).toContain(
      '| `docs-bot` | authenticated (author docs-bot[bot]) | T1 operator | 1 files, 1 lines | built-in default template (no policy file) |',
    );
    const decision = await ctx.service.runtime.store.reader.all('SELECT outcome, agent_id FROM decisions');
    expect(decision).toEqual([{ outcome: 'allow', agent_id: 'docs-bot' }]);
  });

  it('fails a leaked secret with an annotation on its line, and revokes the agent', async () => {
    githubApi();
    prReads([file('docs/setup.md', '@@ -10,1 +10,3 @@\n context\n+Use this key:\n+AKIAIOSFODNN7EXAMPLE')]);
    const bodies: any[] = [];
    nock(API)
      .post(`${REPO}/check-runs`, (b) => bodies.push(b) > 0)
      .reply(201, { id: 78 });
    await postWebhook(ctx.service.port, 'pull_request', agentPullRequest());
    await ctx.service.github!.settle();
    expect(bodies).toHaveLength(1);
    expect(bodies[0]).toMatchObject({ status: 'completed', conclusion: 'failure' });
    expect(bodies[0].output.annotations).toEqual([
      {
        path: 'docs/setup.md',
        start_line: 12,
        end_line: 12,
        annotation_level: 'failure',
        title: 'Secret in added line',
        message: 'looks like a AWS access key id; remove it and rotate the credential',
      },
    ]);
    const db = ctx.service.runtime.store.reader;
    expect(await db.all('SELECT type, severity, consequence FROM violations')).toEqual([
      { type: 'secret_exposure', severity: 'critical', consequence: 'revoke' },
    ]);
    expect(await ctx.service.runtime.state.getRevokeSignal('docs-bot')).toMatchObject({
      reason: expect.stringMatching(/^secret_exposure/),
    });
  });

  it('identifies an agent by its Co-Authored-By trailer when a human opened the PR', async () => {
    githubApi();
    prReads(
      [file('src/app.ts', '@@ -1 +1,2 @@\n x\n+y')],
      [{ sha: 'c1', commit: { message: 'Fix\n\nCo-Authored-By: Claude <noreply@anthropic.com>' } }],
    );
    const bodies: any[] = [];
    nock(API)
      .post(`${REPO}/check-runs`, (b) => bodies.push(b) > 0)
      .reply(201, { id: 79 });
    await postWebhook(ctx.service.port, 'pull_request', agentPullRequest('opened', { login: 'Codertocat' }));
    await ctx.service.github!.settle();
    expect(bodies).toHaveLength(1);
    expect(bodies[0].output.summary).toContain(
      '| `claude-helper` | claimed (trailer Claude <noreply@anthropic.com>); opened by `Codertocat`, a person',
    );
  });

  it('gives a PR from no known agent a quick neutral check', async () => {
    githubApi();
    prReads([file('src/app.ts', '@@ -1 +1,2 @@\n x\n+y')], [{ sha: 'c1', commit: { message: 'Fix' } }]);
    const bodies: any[] = [];
    nock(API)
      .post(`${REPO}/check-runs`, (b) => bodies.push(b) > 0)
      .reply(201, { id: 80 });
    await postWebhook(ctx.service.port, 'pull_request', agentPullRequest('opened', { login: 'Codertocat' }));
    await ctx.service.github!.settle();
    expect(bodies).toHaveLength(1);
    expect(bodies[0]).toMatchObject({
      status: 'completed',
      conclusion: 'neutral',
      output: { title: 'Not an agent pull request: no agent rules applied' },
    });
  });
});
