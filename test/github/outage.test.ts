import nock from 'nock';
import { expect, it } from 'vitest';
import { createLogger } from '../../src/platform/logger.js';
import { API, agentPullRequest, file, githubApi, postWebhook, useGithubService } from '../helpers/github.js';
import { REPO } from '../helpers/github-reads.js';

const lines: { level: number; msg: string; err?: { stack?: string } }[] = [];
const logger = createLogger('info', { write: (line: string) => lines.push(JSON.parse(line)) } as never);
const ctx = useGithubService({ logger });

/** GitHub with no policy file in the repository or the organisation, for every read from now on. */
function noPolicyFiles() {
  return nock(API)
    .persist()
    .get(`${REPO}/contents/.github%2Fagent-governance.yml`)
    .query(true)
    .reply(404, { message: 'Not Found' })
    .get('/repos/Codertocat/.github/contents/.github%2Fagent-governance.yml')
    .reply(404, { message: 'Not Found' });
}

const rateLimited = () => ({
  'x-ratelimit-remaining': '0',
  'x-ratelimit-reset': String(Math.floor(Date.now() / 1000)),
});

it('GitHub answering 502 and 403 rate limits for a while: nothing lost, every check completed once GitHub is back, no duplicates', async () => {
  githubApi();
  const prs = [2, 3, 4].map((n) => ({ n, sha: String(n).repeat(40) }));
  // The outage: the first reads fail with 502, then with rate limits; check-run writes fail too.
  nock(API)
    .get(`${REPO}/contents/.github%2Fagent-governance.yml`)
    .query(true)
    .times(3)
    .reply(502, 'Bad Gateway')
    .get(`${REPO}/contents/.github%2Fagent-governance.yml`)
    .query(true)
    .times(2)
    .reply(403, { message: 'API rate limit exceeded' }, rateLimited());
  const bodies: Record<string, any[]> = {};
  const creates: Record<string, number> = {};
  let nextId = 100;
  const ids: Record<string, number> = {};
  const create = (body: any) => {
    bodies[body.head_sha]!.push(body);
    creates[body.head_sha] = (creates[body.head_sha] ?? 0) + 1;
    ids[body.head_sha] = nextId++;
    return { id: ids[body.head_sha] };
  };
  nock(API)
    .post(`${REPO}/check-runs`)
    .reply(502, 'Bad Gateway')
    // GitHub made this one, but the answer was lost at the gateway: the retry must not make another.
    .post(`${REPO}/check-runs`)
    .reply(502, (_uri, body: any) => {
      create(body);
      return 'Bad Gateway';
    });
  // GitHub is back.
  noPolicyFiles();
  for (const { n, sha } of prs) {
    bodies[sha] = [];
    nock(API)
      .persist()
      .get(`${REPO}/pulls/${n}/commits`)
      .query(true)
      .reply(200, [{ sha: 'c', commit: { message: 'docs' } }])
      .get(`${REPO}/pulls/${n}/files`)
      .query(true)
      .reply(200, [file(`docs/${n}.md`, '@@ -1 +1 @@\n+words')]);
  }
  nock(API)
    .persist()
    .post(`${REPO}/check-runs`)
    .reply(201, (_uri, body: any) => create(body))
    .get(/\/repos\/Codertocat\/Hello-World\/commits\/[0-9a-f]{40}\/check-runs/)
    .query({ check_name: 'Agent Governance', filter: 'latest' })
    .reply(200, (uri) => {
      const sha = /commits\/([0-9a-f]{40})/.exec(uri)![1]!;
      const id = ids[sha];
      return {
        total_count: id ? 1 : 0,
        check_runs: id ? [{ id, name: 'Agent Governance', head_sha: sha }] : [],
      };
    })
    .patch(/\/repos\/Codertocat\/Hello-World\/check-runs\/\d+/)
    .reply(200, (uri, body: any) => {
      const id = Number(uri.split('/').pop());
      const sha = Object.keys(ids).find((s) => ids[s] === id)!;
      bodies[sha]!.push(body);
      return { id };
    });

  for (const { n, sha } of prs) {
    const payload = agentPullRequest('opened', { sha });
    payload.pull_request.number = n;
    payload.number = n;
    expect((await postWebhook(ctx.service.port, 'pull_request', payload)).status).toBe(202);
  }
  await ctx.service.github!.drain(15_000);

  const db = ctx.service.runtime.store.reader;
  expect(await db.get("SELECT COUNT(*) AS n FROM ledger_entries WHERE type = 'delivery.received'")).toEqual({
    n: 3,
  });
  expect(await db.all('SELECT number, COUNT(*) AS n FROM decisions GROUP BY number ORDER BY number')).toEqual(
    [
      { number: 2, n: 1 },
      { number: 3, n: 1 },
      { number: 4, n: 1 },
    ],
  );
  expect(await db.get("SELECT COUNT(*) AS n FROM inbox WHERE status = 'done'")).toEqual({ n: 3 });
  expect(await db.get("SELECT COUNT(*) AS n FROM outbox WHERE status != 'delivered'")).toEqual({ n: 0 });
  const retried = (await db.get('SELECT SUM(attempts) AS n FROM inbox')) as { n: number };
  expect(retried.n).toBeGreaterThan(3);
  for (const { sha } of prs) {
    expect(bodies[sha]!.at(-1)).toMatchObject({ status: 'completed', conclusion: 'success' });
    expect(creates[sha], `check runs created on ${sha.slice(0, 7)}`).toBe(1);
  }
  // An outage is logged as warnings that say what will happen, each once: no errors, no stack traces.
  expect(lines.filter((l) => l.level >= 50).map((l) => l.msg)).toEqual([]);
  expect(lines.filter((l) => l.err?.stack)).toEqual([]);
  expect(lines.map((l) => l.msg)).toContain('GitHub unavailable; delivery will be processed again');
});

it('a handler that fails on its own (a bug, not GitHub) is logged as an error with its stack and event, not as GitHub unavailable', async () => {
  lines.length = 0;
  githubApi();
  noPolicyFiles()
    // A file without a name: GitHub never sends one, and the gate's path matching throws on it.
    .get(`${REPO}/pulls/2/files`)
    .query(true)
    .reply(200, [{ ...file('docs/a.md', '@@ -1 +1 @@\n+x'), filename: null }]);
  const payload = agentPullRequest('opened', { sha: '2'.repeat(40) });
  expect((await postWebhook(ctx.service.port, 'pull_request', payload)).status).toBe(202);
  await expect.poll(() => lines.filter((l) => l.level >= 50).length, { timeout: 5000 }).toBeGreaterThan(0);
  const failed = lines.find((l) => l.level >= 50) as Record<string, any>;
  expect(failed).toMatchObject({ msg: 'delivery failed; it will be processed again', event: 'pull_request' });
  expect(failed.err.stack).toMatch(/^TypeError/);
  expect(lines.map((l) => l.msg)).not.toContain('GitHub unavailable; delivery will be processed again');
});
