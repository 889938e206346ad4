/**
 * Stored deliveries are processed several at once across PRs and one at a time per PR: a PR whose
 * GitHub answers are slow holds up no other PR, and never lets its own later events overtake it.
 * Through the real webhook endpoint with signed deliveries; GitHub stubbed at its REST paths, its
 * answers held back by hand (no timers).
 */
import { describe, expect, it } from 'vitest';
import { agentPullRequest, file, githubApi, postWebhook, useGithubService } from '../helpers/github.js';
import { useGithubCalls } from '../helpers/github-calls.js';
import { ORG_POLICY_PATH, POLICY_PATH, REPO } from '../helpers/github-reads.js';

const ctx = useGithubService({ env: { HEALTH_PROBE_INTERVAL_MS: '600000' } });
const gh = useGithubCalls();

const docs = [file('docs/a.md', '@@ -1 +1 @@\n+x')];
const sha = (c: string) => c.repeat(40);

function pullRequest(n: number, headSha: string, action = 'opened') {
  const payload = agentPullRequest('opened', { sha: headSha });
  payload.action = action;
  payload.pull_request.number = n;
  payload.number = n;
  return payload;
}

/** A GitHub answer that waits until `release()`. */
function held() {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { gate, release };
}

/** The check runs created, by head SHA, in the order GitHub received them; `created(sha)` waits for one. */
function checkRuns() {
  const order: string[] = [];
  const waiting = new Map<string, () => void>();
  let id = 700;
  gh.scope()
    .post(`${REPO}/check-runs`, (body: { head_sha: string }) => {
      order.push(body.head_sha);
      waiting.get(body.head_sha)?.();
      return true;
    })
    .times(10)
    .optionally()
    .reply(201, () => ({ id: id++ }));
  return {
    order,
    created: (headSha: string) =>
      order.includes(headSha)
        ? Promise.resolve()
        : new Promise<void>((resolve) => waiting.set(headSha, resolve)),
  };
}

/** The policy read and cached by a first PR, so the PRs under test ask GitHub for their files only. */
async function warmUp() {
  githubApi();
  gh.scope().get(POLICY_PATH).query({ ref: 'master' }).reply(404).get(ORG_POLICY_PATH).reply(404);
  gh.scope().get(`${REPO}/pulls/1/files`).query({ per_page: 100 }).reply(200, docs);
  expect((await postWebhook(ctx.service.port, 'pull_request', pullRequest(1, sha('1')))).status).toBe(202);
}

function filesOf(n: number, answer?: Promise<void>) {
  gh.scope()
    .get(`${REPO}/pulls/${n}/files`)
    .query({ per_page: 100 })
    .reply((_uri, _body, callback) => {
      void (answer ?? Promise.resolve()).then(() => callback(null, [200, docs]));
    });
}

const headsDecided = async (n: number) =>
  (
    (await ctx.service.runtime.store.reader.all(
      'SELECT head_sha FROM decisions WHERE number = ? ORDER BY seq',
      [n],
    )) as { head_sha: string }[]
  ).map((r) => r.head_sha);

describe('deliveries processed at once across PRs, in order per PR', () => {
  it('a PR whose files GitHub is slow to list holds up no other PR', async () => {
    const runs = checkRuns();
    await warmUp();
    await runs.created(sha('1'));
    const slow = held();
    filesOf(2, slow.gate);
    filesOf(3);
    expect((await postWebhook(ctx.service.port, 'pull_request', pullRequest(2, sha('2')))).status).toBe(202);
    expect((await postWebhook(ctx.service.port, 'pull_request', pullRequest(3, sha('3')))).status).toBe(202);
    await runs.created(sha('3')); // decided while PR 2 still waits for GitHub
    expect(runs.order).toEqual([sha('1'), sha('3')]);
    slow.release();
    await ctx.service.github!.drain();
    expect(runs.order).toEqual([sha('1'), sha('3'), sha('2')]);
  });

  it('a push to a PR waits for the decision of the commit before it, however slow, and is decided last', async () => {
    const runs = checkRuns();
    await warmUp();
    await runs.created(sha('1'));
    const slow = held();
    filesOf(2, slow.gate); // the first event's files: held
    filesOf(2); // the second event's: at once, if it were asked for too early
    expect((await postWebhook(ctx.service.port, 'pull_request', pullRequest(2, sha('a')))).status).toBe(202);
    const pushed = pullRequest(2, sha('b'), 'synchronize');
    expect((await postWebhook(ctx.service.port, 'pull_request', pushed)).status).toBe(202);
    // Another PR, delivered after the push and decided while the first commit still waits: by
    // then the push has had every chance to be judged too, were it not held back.
    filesOf(3);
    expect((await postWebhook(ctx.service.port, 'pull_request', pullRequest(3, sha('3')))).status).toBe(202);
    await runs.created(sha('3'));
    slow.release();
    await ctx.service.github!.drain();
    expect(runs.order).toEqual([sha('1'), sha('3'), sha('a'), sha('b')]);
    expect(await headsDecided(2)).toEqual([sha('a'), sha('b')]);
  });

  it('one delivery id sent twice at the same moment is stored once and decided once', async () => {
    const runs = checkRuns();
    await warmUp();
    await runs.created(sha('1'));
    filesOf(2);
    const deliveryId = crypto.randomUUID();
    const answers = await Promise.all([
      postWebhook(ctx.service.port, 'pull_request', pullRequest(2, sha('2')), { deliveryId }),
      postWebhook(ctx.service.port, 'pull_request', pullRequest(2, sha('2')), { deliveryId }),
    ]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 202]);
    await ctx.service.github!.drain();
    expect(await headsDecided(2)).toEqual([sha('2')]);
    expect(runs.order).toEqual([sha('1'), sha('2')]);
  });
});
