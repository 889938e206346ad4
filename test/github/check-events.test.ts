/**
 * The check and CI events that name PRs only by number: a re-run of this app's check, a re-run of
 * the whole suite, and a finished workflow run. Each reads the PR, decides it again through the one
 * gate, and costs exactly the calls listed (GitHub stubbed at its REST paths, nothing else allowed).
 */
import { describe, expect, it } from 'vitest';
import {
  agentPullRequest,
  examplePayload,
  file,
  githubApi,
  postWebhook,
  useGithubService,
} from '../helpers/github.js';
import { useGithubCalls } from '../helpers/github-calls.js';
import { POLICY_PATH, REPO } from '../helpers/github-reads.js';

const ctx = useGithubService({ env: { HEALTH_PROBE_INTERVAL_MS: '600000' } });
const gh = useGithubCalls();

const SHA = 'a'.repeat(40);
const FILES = `GET ${REPO}/pulls/2/files?per_page=100`;
const PULL = (n: number) => `GET ${REPO}/pulls/${n}`;
const PATCH = `PATCH ${REPO}/check-runs/501`;
const CHECKS = `GET ${REPO}/commits/${SHA}/check-runs?per_page=100`;
const docs = [file('docs/a.md', '@@ -1 +1 @@\n+x')];
const reader = () => ctx.service.runtime.store.reader;

/** Every decision entry, in order: what set it off and what it said. */
function decisions() {
  return reader().all(
    "SELECT json_extract(payload, '$.trigger') AS trigger, json_extract(payload, '$.outcome') AS outcome FROM ledger_entries WHERE type = 'decision.recorded' ORDER BY seq",
  );
}

/** docs-bot's PR #2 at SHA, decided once (no policy file: the built-in template), check run 501. */
async function decidedPr(policy: string | null = null) {
  githubApi();
  const scope = gh.scope();
  if (policy)
    scope
      .get(POLICY_PATH)
      .query({ ref: 'master' })
      .reply(200, { type: 'file', encoding: 'base64', content: Buffer.from(policy).toString('base64') })
      // The organisation's `.github` policy is read for every repository (its enforced rules).
      .get('/repos/Codertocat/.github/contents/.github%2Fagent-governance.yml')
      .reply(404);
  else
    scope
      .get(POLICY_PATH)
      .query({ ref: 'master' })
      .reply(404)
      .get('/repos/Codertocat/.github/contents/.github%2Fagent-governance.yml')
      .reply(404);
  scope.get(`${REPO}/pulls/2/files`).query({ per_page: 100 }).reply(200, docs);
  const bodies: any[] = [];
  scope.post(`${REPO}/check-runs`, (b) => bodies.push(b) > 0).reply(201, { id: 501 });
  if (policy) scope.get(`${REPO}/commits/${SHA}/check-runs`).query(true).reply(200, noChecks());
  await postWebhook(ctx.service.port, 'pull_request', agentPullRequest('opened', { sha: SHA }));
  await ctx.service.github!.drain();
  gh.take();
  return bodies;
}

function noChecks() {
  return { total_count: 0, check_runs: [] };
}

/** The reads and the write one more decision of PR #2 costs: the PR, its files, the check update. */
function decidedAgain(state = 'open') {
  const pr = agentPullRequest('opened', { sha: SHA }).pull_request;
  pr.state = state;
  const bodies: any[] = [];
  const scope = gh.scope().get(`${REPO}/pulls/2`).reply(200, pr);
  if (state !== 'open') return { scope, bodies };
  scope
    .get(`${REPO}/pulls/2/files`)
    .query({ per_page: 100 })
    .reply(200, docs)
    .patch(`${REPO}/check-runs/501`, (b) => bodies.push(b) > 0)
    .reply(200, { id: 501 });
  return { scope, bodies };
}

function withRepository(payload: Record<string, any>): Record<string, any> {
  payload.installation = { id: 1 };
  payload.repository = agentPullRequest().repository;
  return payload;
}

function checkRunRerequested(name: string) {
  const payload = withRepository(examplePayload('check_run', 'rerequested'));
  payload.check_run.name = name;
  payload.check_run.head_sha = SHA;
  payload.check_run.pull_requests = [{ number: 2 }];
  return payload;
}

function workflowRun(conclusion: string, numbers: number[], branch = 'feature') {
  const payload = withRepository(examplePayload('workflow_run', 'completed'));
  payload.workflow_run.name = 'CI';
  payload.workflow_run.conclusion = conclusion;
  payload.workflow_run.head_sha = SHA;
  payload.workflow_run.head_branch = branch;
  payload.workflow_run.pull_requests = numbers.map((number) => ({ number }));
  return payload;
}

describe('someone asks for the Agent Governance check again', () => {
  it('a re-run of the check decides the PR again and writes the check though nothing changed', async () => {
    await decidedPr();
    await postWebhook(ctx.service.port, 'check_run', checkRunRerequested('ci/test'));
    await ctx.service.github!.drain();
    expect(gh.take()).toEqual([]); // another app's check: not ours to run again

    const again = decidedAgain();
    await postWebhook(ctx.service.port, 'check_run', checkRunRerequested('Agent Governance'));
    await ctx.service.github!.drain();
    expect(gh.take()).toEqual([PULL(2), FILES, PATCH]);
    expect(again.bodies).toEqual([expect.objectContaining({ status: 'completed', conclusion: 'success' })]);
    expect(await decisions()).toEqual([
      { trigger: 'pull_request.opened', outcome: 'allow' },
      { trigger: 'check_run.rerequested', outcome: 'allow' },
    ]);
  });

  it('re-running the whole suite decides each open PR it names once, and leaves a closed one alone', async () => {
    await decidedPr();
    decidedAgain();
    const closed = gh
      .scope()
      .get(`${REPO}/pulls/3`)
      .reply(200, { ...agentPullRequest().pull_request, number: 3, state: 'closed' });
    const suite = withRepository(examplePayload('check_suite', 'rerequested'));
    suite.check_suite.pull_requests = [{ number: 2 }, { number: 3 }, { number: 2 }];
    await postWebhook(ctx.service.port, 'check_suite', suite);
    await ctx.service.github!.drain();
    expect(closed.isDone()).toBe(true);
    expect(gh.take().sort()).toEqual([PULL(2), PULL(3), FILES, PATCH].sort());
    expect(await decisions()).toEqual([
      { trigger: 'pull_request.opened', outcome: 'allow' },
      { trigger: 'check_suite.rerequested', outcome: 'allow' },
    ]);
  });
});

describe('a finished workflow run is a CI result', () => {
  const requiresCi = 'rules:\n  required_checks:\n    checks: [ci/test]\n';

  it('decides again a PR waiting for a required check; a failure on an agent PR is a ci_failure', async () => {
    const first = await decidedPr(requiresCi);
    expect(first).toEqual([expect.objectContaining({ status: 'in_progress' })]); // waiting for ci/test

    const again = decidedAgain();
    again.scope
      .get(`${REPO}/commits/${SHA}/check-runs`)
      .query(true)
      .reply(200, {
        total_count: 1,
        check_runs: [{ id: 9, name: 'ci/test', status: 'completed', conclusion: 'failure' }],
      });
    await postWebhook(ctx.service.port, 'workflow_run', workflowRun('failure', [2]));
    await ctx.service.github!.drain();
    expect(gh.take().sort()).toEqual([PULL(2), FILES, CHECKS, PATCH].sort());
    expect(again.bodies).toEqual([expect.objectContaining({ status: 'completed', conclusion: 'failure' })]);
    expect(await decisions()).toEqual([
      { trigger: 'pull_request.opened', outcome: 'pending' },
      { trigger: 'workflow_run.completed', outcome: 'deny' },
    ]);
    expect(await reader().all('SELECT agent_id, type, details FROM violations')).toEqual([
      {
        agent_id: 'docs-bot',
        type: 'ci_failure',
        details: 'CI failure on Codertocat/Hello-World#2 at aaaaaaa',
      },
    ]);
  });

  it('a passing run charges nothing, and a PR already decided is not decided again', async () => {
    await decidedPr();
    await postWebhook(ctx.service.port, 'workflow_run', workflowRun('success', [2]));
    await ctx.service.github!.drain();
    expect(gh.take()).toEqual([]);
    expect(await decisions()).toEqual([{ trigger: 'pull_request.opened', outcome: 'allow' }]);
    expect(await reader().get('SELECT COUNT(*) AS n FROM violations')).toEqual({ n: 0 });
  });
});
