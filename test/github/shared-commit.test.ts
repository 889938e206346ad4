/**
 * A check run belongs to a commit; a decision to a PR. Two PRs with one head commit share the one
 * `Agent Governance` check that branch protection reads (found by the outside attack: an agent
 * opened a second PR of the same commit into a scratch branch, and its allow turned the check of the
 * PR waiting for approval green). The check shows the strictest decision of the PRs at the commit.
 */
import nock from 'nock';
import { describe, expect, it } from 'vitest';
import { API, agentPullRequest, file, githubApi, postWebhook } from '../helpers/github.js';
import { REPO } from '../helpers/github-reads.js';
import { lockFile, review, SHA, useServiceOnDemand } from './walkaround-fakes.js';

const running = useServiceOnDemand();

/** GitHub with PR 2 changing the lock file and PR 3 (same head commit) changing only the README. */
function twoPullRequests(pr3Author: string, pr2Files: unknown[] = lockFile) {
  githubApi();
  const checks: any[] = [];
  const pr2 = agentPullRequest('opened', { sha: SHA, login: 'builder-bot[bot]' });
  const pr3 = agentPullRequest('opened', { sha: SHA, login: pr3Author });
  pr3.pull_request.number = 3;
  pr3.number = 3;
  pr3.pull_request.base.ref = 'agent-scratch';
  nock(API)
    .persist()
    .get(/\/contents\//)
    .query(true)
    .reply(404, { message: 'Not Found' })
    .get(/\/pulls\/[23]\/commits/)
    .query(true)
    .reply(200, [{ sha: 'c1', commit: { message: 'Fix' } }])
    .get(/\/pulls\/2\/files/)
    .query(true)
    .reply(200, pr2Files)
    .get(/\/pulls\/3\/files/)
    .query(true)
    .reply(200, [file('README.md', '@@ -1 +1 @@\n+typo')])
    .get(/\/pulls\/2$/)
    .reply(200, () => pr2.pull_request)
    .get(/\/pulls\/3$/)
    .reply(200, () => pr3.pull_request)
    .post(`${REPO}/check-runs`)
    .reply(201, (_u, b: any) => {
      const id = b.head_sha === SHA ? 900 : 901;
      checks.push({ id, ...b });
      return { id };
    })
    .patch(/\/check-runs\/90[01]$/)
    .reply(200, (uri, b: any) => {
      const id = Number(uri.split('/').at(-1));
      checks.push({ id, ...b });
      return { id };
    });
  const completed = (id = 900) => checks.filter((c) => c.status === 'completed' && c.id === id);
  return { pr2, pr3, last: (id = 900) => completed(id).at(-1) };
}

describe('two PRs at one head commit share its check', () => {
  it("the agent's second PR of the same commit, allowed, does not turn the waiting PR's check green", async () => {
    const s = await running.start();
    const gh = twoPullRequests('builder-bot[bot]');
    await postWebhook(s.port, 'pull_request', gh.pr2);
    await s.github!.drain();
    expect(gh.last()).toMatchObject({ conclusion: 'action_required' });

    await postWebhook(s.port, 'pull_request', gh.pr3);
    await s.github!.drain();
    // PR 3 on its own is allowed; the commit's check still says PR 2 waits for people.
    expect(gh.last()).toMatchObject({
      conclusion: 'action_required',
      output: { title: expect.stringMatching(/^PR #2 at this commit: Needs approval/) },
    });
    expect(gh.last().output.summary).toContain('| #3 | allow |');
    expect(gh.last().output.summary).toContain('| #2 | require_approval |');

    // Once PR 2 is approved, every PR at the commit allows it: the check passes.
    await postWebhook(s.port, 'pull_request_review', review('alice'));
    await s.github!.drain();
    expect(gh.last()).toMatchObject({ conclusion: 'success' });
  });

  it("a person's PR of the same commit does not turn the agent's waiting check neutral", async () => {
    const s = await running.start();
    const gh = twoPullRequests('mallory');
    await postWebhook(s.port, 'pull_request', gh.pr2);
    await s.github!.drain();
    await postWebhook(s.port, 'pull_request', gh.pr3);
    await s.github!.drain();
    expect(gh.last()).toMatchObject({ conclusion: 'action_required' });
  });

  it('a stricter decision made after a looser one replaces it: the order of the PRs does not matter', async () => {
    const s = await running.start();
    const gh = twoPullRequests('builder-bot[bot]');
    await postWebhook(s.port, 'pull_request', gh.pr3);
    await s.github!.drain();
    expect(gh.last()).toMatchObject({ conclusion: 'success' });
    await postWebhook(s.port, 'pull_request', gh.pr2);
    await s.github!.drain();
    expect(gh.last()).toMatchObject({ conclusion: 'action_required' });
  });

  it.each([
    ['the agent PR first', ['pr2', 'pr3']],
    ["the person's PR first", ['pr3', 'pr2']],
  ] as const)(
    "a person's PR of the same commit leaves an allowed agent PR's check passing: %s",
    async (_n, order) => {
      const s = await running.start();
      const gh = twoPullRequests('mallory', [file('README.md', '@@ -1 +1 @@\n+typo')]);
      for (const pr of order) {
        await postWebhook(s.port, 'pull_request', gh[pr]);
        await s.github!.drain();
      }
      expect(gh.last()).toMatchObject({ conclusion: 'success' });
    },
  );

  it('the PR holding the commit back moves to another commit: the check it leaves is written again without it', async () => {
    const s = await running.start();
    const gh = twoPullRequests('builder-bot[bot]');
    await postWebhook(s.port, 'pull_request', gh.pr2);
    await postWebhook(s.port, 'pull_request', gh.pr3);
    await s.github!.drain();
    expect(gh.last()).toMatchObject({ conclusion: 'action_required' });

    const pushed = structuredClone(gh.pr2);
    pushed.action = 'synchronize';
    pushed.pull_request.head.sha = 'b'.repeat(40);
    await postWebhook(s.port, 'pull_request', pushed);
    await s.github!.drain();
    // PR 2 waits at its new commit; the commit it left has PR 3 only, which is allowed.
    expect(gh.last(901)).toMatchObject({ conclusion: 'action_required' });
    expect(gh.last()).toMatchObject({
      conclusion: 'success',
      output: { title: expect.stringMatching(/^PR #3 at this commit: /) },
    });
  });
});
