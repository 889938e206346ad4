/**
 * The reconciliation sweep touches only PRs whose check is missing or stale: a PR that waits for its
 * approvers costs the sweep no call and no ledger entry until something it depends on changes.
 */
import { describe, expect, it } from 'vitest';
import { agentPullRequest, file, githubApi, postWebhook, useGithubService } from '../helpers/github.js';
import { useGithubCalls } from '../helpers/github-calls.js';
import { REPO } from '../helpers/github-reads.js';

const ctx = useGithubService({ env: { HEALTH_PROBE_INTERVAL_MS: '600000' } });
const gh = useGithubCalls();

const SHA = 'a'.repeat(40);
const pr = agentPullRequest('opened', { sha: SHA, login: 'builder-bot[bot]' });
const lockFile = [file('package.json', '@@ -1 +1 @@\n+"left-pad": "1.3.0"')];
const SWEEP = [
  'GET /app/installations?per_page=100',
  'GET /installation/repositories?per_page=100',
  `GET ${REPO}/pulls?state=open&per_page=100`,
];
const reader = () => ctx.service.runtime.store.reader;
const decisions = () =>
  reader().all(
    "SELECT json_extract(payload, '$.outcome') AS outcome FROM ledger_entries WHERE type = 'decision.recorded'",
  );

/** GitHub's answers to `times` sweeps: one installation, one repository, PR #2 open at SHA. */
function sweeps(times: number) {
  gh.scope()
    .get('/app/installations')
    .query({ per_page: 100 })
    .times(times)
    .reply(200, [{ id: 1, account: { login: 'Codertocat' } }])
    .get('/installation/repositories')
    .query({ per_page: 100 })
    .times(times)
    .reply(200, { total_count: 1, repositories: [pr.repository] })
    .get(`${REPO}/pulls`)
    .query({ state: 'open', per_page: 100 })
    .times(times)
    .reply(200, [pr.pull_request]);
}

/** builder-bot's PR #2 adds a dependency: it waits for an approval (one check-run create, id 700). */
async function waitingPr(): Promise<any[]> {
  githubApi();
  const bodies: any[] = [];
  gh.scope()
    .get(`${REPO}/contents/.github%2Fagent-governance.yml`)
    .query({ ref: 'master' })
    .reply(404)
    .get('/repos/Codertocat/.github/contents/.github%2Fagent-governance.yml')
    .reply(404)
    .get(`${REPO}/pulls/2/files`)
    .query({ per_page: 100 })
    .reply(200, lockFile)
    .post(`${REPO}/check-runs`, (b) => bodies.push(b) > 0)
    .reply(201, { id: 700 });
  await postWebhook(ctx.service.port, 'pull_request', pr);
  await ctx.service.github!.drain();
  gh.take();
  return bodies;
}

describe('the sweep over a PR waiting for approval', () => {
  it('three sweeps later: one decision entry, one check-run write, and no call but the listings', async () => {
    const bodies = await waitingPr();
    sweeps(3);
    for (let i = 0; i < 3; i++) await ctx.service.github!.reconcileNow();
    await ctx.service.github!.drain();
    expect(gh.take()).toEqual([...SWEEP, ...SWEEP, ...SWEEP]);
    expect(await decisions()).toEqual([{ outcome: 'require_approval' }]);
    expect(bodies).toEqual([expect.objectContaining({ status: 'completed', conclusion: 'action_required' })]);
  });

  it('an approval recorded while GitHub could not be told makes it stale: the next sweep decides and updates the check', async () => {
    await waitingPr();
    const decided = JSON.parse(
      ((await reader().get("SELECT payload FROM ledger_entries WHERE type = 'decision.recorded'")) as any)
        .payload,
    );
    await ctx.service.runtime.governance.record([
      {
        type: 'approval.recorded',
        agentId: null,
        actor: 'alice',
        payload: {
          repository: 'Codertocat/Hello-World',
          number: 2,
          approver: 'alice',
          verdict: 'approve',
          gate: null,
          headSha: SHA,
          diffHash: decided.diffHash,
          policyVersion: decided.policyVersion,
          source: 'github_review',
        },
      },
    ]);
    sweeps(1);
    const bodies: any[] = [];
    gh.scope()
      .get(`${REPO}/pulls/2/files`)
      .query({ per_page: 100 })
      .reply(200, lockFile)
      .patch(`${REPO}/check-runs/700`, (b) => bodies.push(b) > 0)
      .reply(200, { id: 700 });
    await ctx.service.github!.reconcileNow();
    await ctx.service.github!.drain();
    // The check run's id was kept: updated in place, never looked up.
    expect(gh.take()).toEqual([
      ...SWEEP,
      `GET ${REPO}/pulls/2/files?per_page=100`,
      `PATCH ${REPO}/check-runs/700`,
    ]);
    expect(await decisions()).toEqual([{ outcome: 'require_approval' }, { outcome: 'allow' }]);
    expect(bodies).toEqual([expect.objectContaining({ status: 'completed', conclusion: 'success' })]);
  });
});
