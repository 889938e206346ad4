/**
 * GitHub calls are the scarcest thing this service spends: the exact calls each event costs, through
 * the real webhook endpoint with signed deliveries and GitHub stubbed at its documented REST paths.
 */
import { describe, expect, it } from 'vitest';
import {
  agentPullRequest,
  examplePayload,
  file,
  githubApi,
  postWebhook,
  startGithubService,
  useGithubService,
} from '../helpers/github.js';
import { useGithubCalls } from '../helpers/github-calls.js';
import { ORG_POLICY_PATH, POLICY_PATH, REPO } from '../helpers/github-reads.js';

const ctx = useGithubService({ env: { HEALTH_PROBE_INTERVAL_MS: '600000' } });
const gh = useGithubCalls();

const FILES = (n: number) => `GET ${REPO}/pulls/${n}/files?per_page=100`;
const POLICY = `GET ${POLICY_PATH}?ref=master`;
const CREATE = `POST ${REPO}/check-runs`;
const docs = [file('docs/a.md', '@@ -1 +1 @@\n+x')];
const reader = () => ctx.service.runtime.store.reader;
const decisions = async () =>
  ((await reader().get('SELECT COUNT(*) AS n FROM decisions')) as { n: number }).n;

/** docs-bot's PR #`n` at `sha`, delivered and everything it causes done. */
async function agentPr(n: number, sha: string, action = 'opened', title?: string) {
  const payload = agentPullRequest('opened', { sha });
  payload.action = action; // the examples hold no `edited`: the same PR, another action
  payload.pull_request.number = n;
  payload.number = n;
  if (title) payload.pull_request.title = title;
  expect((await postWebhook(ctx.service.port, 'pull_request', payload)).status).toBe(202);
  await ctx.service.github!.drain();
}

/** GitHub's answers to one evaluation of PR #`n`: its files, and one check-run create (with `id`). */
function filesAndCreate(n: number, id: number, bodies: any[] = []) {
  gh.scope()
    .get(`${REPO}/pulls/${n}/files`)
    .query({ per_page: 100 })
    .reply(200, docs)
    .post(`${REPO}/check-runs`, (b) => bodies.push(b) > 0)
    .reply(201, { id });
  return bodies;
}

/** A push to `repository`'s default branch changing `paths`, as GitHub sends it. */
function push(paths: string[], repository = agentPullRequest().repository) {
  const payload = examplePayload('push', undefined as never);
  payload.installation = { id: 1 };
  payload.repository = repository;
  payload.ref = `refs/heads/${repository.default_branch}`;
  payload.commits = [{ id: 'f'.repeat(40), message: 'Tighten', added: [], removed: [], modified: paths }];
  return payload;
}

/** A policy file as GitHub's contents API answers it. */
const policyFile = (text: string) => ({
  type: 'file',
  encoding: 'base64',
  content: Buffer.from(text).toString('base64'),
});
/** A policy that holds every docs/ change for alice. */
const TIGHT =
  'rules:\n  protected_paths: { paths: ["docs/**"], action: require_approval, gate: docs }\ngates:\n  docs: { approvals: 1, approvers: [alice] }\n';
/** The next policy read, asked with `If-None-Match: "loose"`, answers TIGHT (and tells `onRead`). */
function tightOnNextRead(onRead: () => void = () => undefined) {
  gh.scope()
    .get(POLICY_PATH)
    .query({ ref: 'master' })
    .matchHeader('if-none-match', '"loose"')
    .reply(() => {
      onRead();
      return [200, policyFile(TIGHT), { ETag: '"tight"' }] as never;
    });
}
/** PR #3 asks for the policy again (If-None-Match), gets TIGHT, and waits for alice. */
async function nextPrReadsTheTightPolicy() {
  tightOnNextRead();
  const bodies = filesAndCreate(3, 502);
  await agentPr(3, 'b'.repeat(40));
  expect(gh.take()).toEqual([POLICY, FILES(3), CREATE]);
  expect(bodies[0]).toMatchObject({ status: 'completed', conclusion: 'action_required' });
}
/** PR #2 decided under a loose policy (ETag "loose"; no organisation file); its calls taken. */
async function decidedUnderLoosePolicy() {
  githubApi();
  gh.scope()
    .get(POLICY_PATH)
    .query({ ref: 'master' })
    .reply(200, policyFile('extends: default\n'), { ETag: '"loose"' })
    .get(ORG_POLICY_PATH)
    .reply(404);
  filesAndCreate(2, 501);
  await agentPr(2, 'a'.repeat(40));
  gh.take();
}

describe('one agent PR event in steady state: the PR files and one check-run write', () => {
  it('reads the policy once per repository; every later event costs its files and one check-run create', async () => {
    githubApi();
    gh.scope().get(POLICY_PATH).query({ ref: 'master' }).reply(404).get(ORG_POLICY_PATH).reply(404);
    const first = filesAndCreate(2, 501);
    await agentPr(2, 'a'.repeat(40));
    expect(gh.take()).toEqual([POLICY, `GET ${ORG_POLICY_PATH}`, FILES(2), CREATE]);
    // Decided at once: the check run is created in its final state, no `queued`/`in_progress` first.
    expect(first).toEqual([expect.objectContaining({ status: 'completed', conclusion: 'success' })]);

    const second = filesAndCreate(3, 502);
    await agentPr(3, 'b'.repeat(40));
    expect(gh.take()).toEqual([FILES(3), CREATE]); // the 404s of the policy files were kept too
    expect(second).toEqual([expect.objectContaining({ status: 'completed', conclusion: 'success' })]);
    expect(await decisions()).toBe(2);
  });

  it('a delivery that changes nothing the verdict depends on records nothing and writes no check', async () => {
    githubApi();
    gh.scope().get(POLICY_PATH).query({ ref: 'master' }).reply(404).get(ORG_POLICY_PATH).reply(404);
    filesAndCreate(2, 501);
    await agentPr(2, 'a'.repeat(40));
    gh.take();
    gh.scope().get(`${REPO}/pulls/2/files`).query({ per_page: 100 }).reply(200, docs);
    await agentPr(2, 'a'.repeat(40), 'edited'); // the body was edited: same commit, same verdict
    expect(gh.take()).toEqual([FILES(2)]);
    expect(await decisions()).toBe(1);
  });

  it('an event on a commit whose check is done updates that check run by its kept id (no lookup)', async () => {
    githubApi();
    gh.scope().get(POLICY_PATH).query({ ref: 'master' }).reply(404).get(ORG_POLICY_PATH).reply(404);
    filesAndCreate(2, 501);
    await agentPr(2, 'a'.repeat(40));
    gh.take();
    const bodies: any[] = [];
    gh.scope()
      .get(`${REPO}/pulls/2/files`)
      .query({ per_page: 100 })
      .reply(200, docs)
      .patch(`${REPO}/check-runs/501`, (b) => bodies.push(b) > 0)
      .reply(200, { id: 501 });
    await agentPr(2, 'a'.repeat(40), 'edited', 'A new title');
    expect(gh.take()).toEqual([FILES(2), `PATCH ${REPO}/check-runs/501`]);
    expect(bodies).toEqual([expect.objectContaining({ status: 'completed', conclusion: 'success' })]);
    expect(await decisions()).toBe(2);
  });
});

describe('the policy cache follows pushes to the default branch', () => {
  it('a push touching the policy makes the next event ask with If-None-Match, and a 304 keeps the file', async () => {
    githubApi();
    const policy = policyFile('extends: strict\n');
    // The organisation's file is read even so: what it enforces applies to every repository.
    gh.scope()
      .get(POLICY_PATH)
      .query({ ref: 'master' })
      .reply(200, policy, { ETag: '"v1"' })
      .get(ORG_POLICY_PATH)
      .reply(404);
    filesAndCreate(2, 501);
    await agentPr(2, 'a'.repeat(40));
    expect(gh.take()).toEqual([POLICY, `GET ${ORG_POLICY_PATH}`, FILES(2), CREATE]);

    // A push elsewhere on the default branch is not even stored, and changes nothing.
    const readme = await postWebhook(ctx.service.port, 'push', push(['README.md']));
    expect(await readme.json()).toEqual({ ok: true, ignored: 'a push that reverts nothing' });
    expect((await postWebhook(ctx.service.port, 'push', push(['.github/agent-governance.yml']))).status).toBe(
      202,
    );
    await ctx.service.github!.drain();
    expect(gh.take()).toEqual([]);

    gh.scope()
      .get(POLICY_PATH)
      .query({ ref: 'master' })
      .matchHeader('if-none-match', '"v1"')
      .reply(304, '', { ETag: '"v1"' });
    const bodies = filesAndCreate(3, 502);
    await agentPr(3, 'b'.repeat(40));
    expect(gh.take()).toEqual([POLICY, FILES(3), CREATE]);
    expect(bodies[0].output.summary).toContain(
      'Codertocat/Hello-World:.github/agent-governance.yml@master extends strict',
    );
  });

  it('a force-push that moves the default branch back (no commits listed) is stored, and the next event reads the policy again', async () => {
    await decidedUnderLoosePolicy();

    // The branch is reset to an older commit: GitHub lists no commits, only that it was forced.
    const forced = push([]);
    forced.commits = [];
    forced.forced = true;
    const stored = await postWebhook(ctx.service.port, 'push', forced);
    expect(await stored.json()).toMatchObject({ ok: true, seq: expect.any(Number) });
    // A push listing as many commits as GitHub ever lists (2,048) may have left the policy's out.
    const long = push(['README.md']);
    long.commits = Array.from({ length: 2048 }, (_, i) => ({
      ...long.commits[0],
      id: i.toString(16).padStart(40, '0'),
    }));
    expect(await (await postWebhook(ctx.service.port, 'push', long)).json()).toMatchObject({
      ok: true,
      seq: expect.any(Number),
    });
    await ctx.service.github!.drain();
    expect(gh.take()).toEqual([]);

    await nextPrReadsTheTightPolicy();
  });

  it('a push stored while the policy is being read makes the PRs after it read the policy again', async () => {
    githubApi();
    // GitHub answers the first read slowly, with the file as it was before the push.
    let readStarted!: () => void;
    const started = new Promise<void>((resolve) => (readStarted = resolve));
    let answer!: () => void;
    const answered = new Promise<void>((resolve) => (answer = resolve));
    gh.scope()
      .get(POLICY_PATH)
      .query({ ref: 'master' })
      .reply(async () => {
        readStarted();
        await answered;
        return [200, policyFile('extends: default\n'), { ETag: '"loose"' }];
      })
      .get(ORG_POLICY_PATH)
      .reply(404);
    filesAndCreate(2, 501);
    const first = agentPullRequest('opened', { sha: 'a'.repeat(40) });
    expect((await postWebhook(ctx.service.port, 'pull_request', first)).status).toBe(202);
    await started;
    // The tightening commit lands and its push is stored while that read is still under way.
    expect((await postWebhook(ctx.service.port, 'push', push(['.github/agent-governance.yml']))).status).toBe(
      202,
    );
    // The service follows the ledger meanwhile (any other decision does), and sees the push.
    await ctx.service.runtime.governance.syncState();
    answer();
    await ctx.service.github!.drain();
    gh.take();

    await nextPrReadsTheTightPolicy();
  });

  it('while the state store refuses writes, and so the ledger cannot be followed, every policy read asks GitHub again', async () => {
    await decidedUnderLoosePolicy();

    // Redis out of memory (or a read-only replica): reads answer, every write fails.
    const state = ctx.service.runtime.governance.state;
    const apply = state.apply.bind(state);
    state.apply = async (changes) => {
      if (changes.length) throw new Error('OOM command not allowed when used memory > maxmemory');
    };
    try {
      // An entry the store cannot take comes first; then the tightening push is stored after it.
      await ctx.service.runtime.governance
        .registerAgent({ id: 'other-bot', tier: 'T1', owner: 'olivia' }, 'admin')
        .catch(() => undefined);
      expect(
        (await postWebhook(ctx.service.port, 'push', push(['.github/agent-governance.yml']))).status,
      ).toBe(202);
      await ctx.service.github!.drain();
    } finally {
      state.apply = apply;
    }
    gh.take();
    // The next PR comes while the store still refuses writes: its policy is asked for again.
    state.apply = async (changes) => {
      if (changes.length) throw new Error('OOM command not allowed when used memory > maxmemory');
    };
    let asked!: () => void;
    const policyAsked = new Promise<void>((resolve) => (asked = resolve));
    tightOnNextRead(() => asked());
    gh.scope().get(ORG_POLICY_PATH).reply(404);
    const bodies: any[] = [];
    gh.scope()
      .persist()
      .get(`${REPO}/pulls/3/files`)
      .query({ per_page: 100 })
      .reply(200, docs)
      .post(`${REPO}/check-runs`, (b) => bodies.push(b) > 0)
      .reply(201, { id: 502 });
    const third = agentPullRequest('opened', { sha: 'b'.repeat(40) });
    third.pull_request.number = 3;
    third.number = 3;
    expect((await postWebhook(ctx.service.port, 'pull_request', third)).status).toBe(202);
    await policyAsked;
    state.apply = apply;
    await ctx.service.github!.drain();
    expect(gh.take().slice(0, 2)).toEqual([POLICY, `GET ${ORG_POLICY_PATH}`]);
    expect(bodies.at(-1)).toMatchObject({ status: 'completed', conclusion: 'action_required' });
  });

  it("a push to the organisation's .github repository reads its policy again, and only that", async () => {
    githubApi();
    gh.scope().get(POLICY_PATH).query({ ref: 'master' }).reply(404).get(ORG_POLICY_PATH).reply(404);
    filesAndCreate(2, 501);
    await agentPr(2, 'a'.repeat(40));
    gh.take();
    const org = { ...agentPullRequest().repository, name: '.github', full_name: 'Codertocat/.github' };
    await postWebhook(ctx.service.port, 'push', push(['.github/agent-governance.yml'], org));
    await ctx.service.github!.drain();

    const text = 'extends: strict\n';
    gh.scope()
      .get(ORG_POLICY_PATH)
      .reply(200, { type: 'file', encoding: 'base64', content: Buffer.from(text).toString('base64') });
    const bodies = filesAndCreate(3, 502);
    await agentPr(3, 'b'.repeat(40));
    expect(gh.take()).toEqual([`GET ${ORG_POLICY_PATH}`, FILES(3), CREATE]);
    expect(bodies[0].output.summary).toContain('Codertocat/.github:.github/agent-governance.yml');
  });
});

describe('a slow decision shows in_progress first, and only on a commit not decided yet', () => {
  it('in_progress then the final state; a later event on the decided commit writes its final state only', async () => {
    const slow = await startGithubService({
      github: { inProgressAfterMs: 0 }, // every decision counts as slow
      env: { HEALTH_PROBE_INTERVAL_MS: '600000' },
    });
    try {
      githubApi();
      const bodies: any[] = [];
      gh.scope()
        .get(POLICY_PATH)
        .query({ ref: 'master' })
        .reply(404)
        .get(ORG_POLICY_PATH)
        .reply(404)
        .get(`${REPO}/pulls/2/files`)
        .query({ per_page: 100 })
        .times(2)
        .reply(200, docs)
        .post(`${REPO}/check-runs`, (b) => bodies.push(b) > 0)
        .reply(201, { id: 501 })
        .patch(`${REPO}/check-runs/501`, (b) => bodies.push(b) > 0)
        .times(2)
        .reply(200, { id: 501 });
      const pr = agentPullRequest('opened', { sha: 'a'.repeat(40) });
      await postWebhook(slow.port, 'pull_request', pr);
      await slow.github!.drain();
      pr.action = 'edited';
      pr.pull_request.title = 'A new title';
      await postWebhook(slow.port, 'pull_request', pr);
      await slow.github!.drain();
      expect(bodies.map((b) => [b.status, b.output.title])).toEqual([
        ['in_progress', 'Evaluating'],
        ['completed', 'Allowed: every rule passed'],
        ['completed', 'Allowed: every rule passed'], // never moved back to in_progress
      ]);
    } finally {
      await slow.stop();
    }
  });
});
