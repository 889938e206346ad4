/**
 * One signed delivery sent again and again under fresh X-GitHub-Delivery ids (the signature does
 * not cover that header): deliveries of one PR at one head waiting together are decided once, for
 * the newest of them, and one whose snapshot of the PR was decided already asks GitHub nothing.
 * Through the real webhook endpoint with signed deliveries; GitHub stubbed at its REST paths, the
 * worker held by hand behind an event that runs alone (no timers).
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
import { ORG_POLICY_PATH, POLICY_PATH, REPO } from '../helpers/github-reads.js';
import { builderPr, github, review, SHA_A } from './pr-fakes.js';

const ctx = useGithubService({ env: { HEALTH_PROBE_INTERVAL_MS: '600000' } });
const gh = useGithubCalls();

const docs = [file('docs/a.md', '@@ -1 +1 @@\n+x')];
const sha = (c: string) => c.repeat(40);
const COPIES = 25;

function pullRequest(n: number, headSha: string, action = 'opened') {
  const payload = agentPullRequest('opened', { sha: headSha });
  payload.action = action;
  payload.pull_request.number = n;
  payload.number = n;
  return payload;
}

/** A `check_suite.rerequested` naming PR 9, whose read waits until `release()`: nothing runs beside it. */
async function holdWorker() {
  let release!: () => void;
  let started!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const running = new Promise<void>((resolve) => {
    started = resolve;
  });
  gh.scope()
    .get(`${REPO}/pulls/9`)
    .reply((_uri, _body, callback) => {
      started();
      void gate.then(() => callback(null, [200, { number: 9, state: 'closed' }]));
    });
  const suite = examplePayload('check_suite', 'rerequested');
  suite.installation = { id: 1 };
  suite.repository = agentPullRequest().repository;
  suite.check_suite.pull_requests = [{ number: 9 }];
  expect((await postWebhook(ctx.service.port, 'check_suite', suite)).status).toBe(202);
  await running;
  return release;
}

function reads(files: Record<number, number>) {
  githubApi();
  gh.scope().get(POLICY_PATH).query({ ref: 'master' }).reply(404).get(ORG_POLICY_PATH).reply(404);
  for (const [n, times] of Object.entries(files))
    gh.scope().get(`${REPO}/pulls/${n}/files`).query({ per_page: 100 }).times(times).reply(200, docs);
  const created: string[] = [];
  gh.scope()
    .post(`${REPO}/check-runs`, (body: { head_sha: string }) => created.push(body.head_sha) > 0)
    .times(10)
    .optionally()
    .reply(201, () => ({ id: 700 + created.length }))
    .patch(/\/check-runs\/\d+$/)
    .times(10)
    .optionally()
    .reply(200, (uri) => ({ id: Number(uri.split('/').pop()) }));
  return created;
}

const decided = (n: number) =>
  ctx.service.runtime.store.reader.all(
    "SELECT d.head_sha AS head, json_extract(e.payload, '$.title') AS title FROM decisions d JOIN ledger_entries e ON e.seq = d.seq WHERE d.number = ? ORDER BY d.seq",
    [n],
  );

const inboxStatuses = () =>
  ctx.service.runtime.store.reader.all(
    "SELECT status, COUNT(*) AS n FROM inbox WHERE event = 'pull_request' GROUP BY status",
  );

async function replay(body: string, times: number) {
  const answers = await Promise.all(
    Array.from({ length: times }, () => postWebhook(ctx.service.port, 'pull_request', null, { body })),
  );
  expect(answers.map((a) => a.status)).toEqual(Array(times).fill(202));
}

describe('one signed delivery replayed under fresh ids', () => {
  it('copies waiting together cost one files read and one decision; another PR is decided too', async () => {
    const created = reads({ 2: 1, 3: 1 });
    const release = await holdWorker();
    const body = JSON.stringify(pullRequest(2, sha('2')));
    await replay(body, COPIES);
    expect((await postWebhook(ctx.service.port, 'pull_request', pullRequest(3, sha('3')))).status).toBe(202);
    release();
    await ctx.service.github!.drain();
    expect(await decided(2)).toEqual([{ head: sha('2'), title: expect.any(String) }]);
    expect(await decided(3)).toHaveLength(1);
    expect(created.sort()).toEqual([sha('2'), sha('3')]);
    expect(await inboxStatuses()).toEqual([{ status: 'done', n: COPIES + 1 }]);

    // Sent again once it is decided: nothing read from GitHub, nothing recorded.
    gh.take();
    await replay(body, COPIES);
    await ctx.service.github!.drain();
    expect(gh.take()).toEqual([]);
    expect(await decided(2)).toHaveLength(1);
  });

  it('the PR is decided once, for the newest delivery waiting: an edit behind the copies wins', async () => {
    reads({ 2: 1 });
    const release = await holdWorker();
    await replay(JSON.stringify(pullRequest(2, sha('2'))), COPIES);
    const edited = pullRequest(2, sha('2'), 'edited');
    edited.pull_request.title = 'the edited title';
    expect((await postWebhook(ctx.service.port, 'pull_request', edited)).status).toBe(202);
    release();
    await ctx.service.github!.drain();
    expect(await decided(2)).toEqual([{ head: sha('2'), title: 'the edited title' }]);
  });

  it('a push to a new head and an edit at the same head and instant are still decided', async () => {
    reads({ 2: 3 });
    const opened = pullRequest(2, sha('2'));
    await replay(JSON.stringify(opened), 1);
    await ctx.service.github!.drain();
    const edited = pullRequest(2, sha('2'), 'edited');
    edited.pull_request.title = 'the edited title';
    edited.pull_request.updated_at = opened.pull_request.updated_at; // edited within the second
    expect((await postWebhook(ctx.service.port, 'pull_request', edited)).status).toBe(202);
    await ctx.service.github!.drain();
    const pushed = pullRequest(2, sha('4'), 'synchronize');
    pushed.before = sha('2');
    expect((await postWebhook(ctx.service.port, 'pull_request', pushed)).status).toBe(202);
    await ctx.service.github!.drain();
    expect((await decided(2)).map((d: any) => [d.head, d.title])).toEqual([
      [sha('2'), expect.any(String)],
      [sha('2'), 'the edited title'],
      [sha('4'), expect.any(String)],
    ]);
  });
});

describe('one signed review replayed under fresh ids', () => {
  it('is one approval and one decision; the check passes once', async () => {
    const fake = github([file('package.json', '@@ -1 +1 @@\n+"left-pad": "1.3.0"')]);
    expect((await postWebhook(ctx.service.port, 'pull_request', builderPr('opened', SHA_A))).status).toBe(
      202,
    );
    await ctx.service.github!.drain();
    expect(fake.last(SHA_A)).toMatchObject({ conclusion: 'action_required' });
    const body = JSON.stringify(review('alice', SHA_A));
    for (let i = 0; i < 3; i++) {
      expect((await postWebhook(ctx.service.port, 'pull_request_review', null, { body })).status).toBe(202);
      await ctx.service.github!.drain();
    }
    expect(fake.last(SHA_A)).toMatchObject({ conclusion: 'success' });
    const db = ctx.service.runtime.store.reader;
    expect(await db.all('SELECT approver FROM approvals')).toEqual([{ approver: 'alice' }]);
    expect(await db.all('SELECT outcome FROM decisions ORDER BY seq')).toEqual([
      { outcome: 'require_approval' },
      { outcome: 'allow' },
    ]);
  });
});
