/**
 * GitHub's rate limit, read from every response: shown in /metrics and /readyz, and when it runs low
 * the gates (check runs) keep the budget while the sweep and finding issues wait for the reset.
 */

import { describe, expect, it } from 'vitest';
import { sqliteOf } from '../../src/app/open-runtime.js';
import { findingIssueMessage } from '../../src/github/finding-issue.js';
import { RateLimits } from '../../src/github/rate-limits.js';
import { agentPullRequest, file, githubApi, postWebhook, useGithubService } from '../helpers/github.js';
import { useGithubCalls } from '../helpers/github-calls.js';
import { REPO } from '../helpers/github-reads.js';

describe('RateLimits', () => {
  const at = Date.parse('2026-12-01T10:00:00Z');
  const reset = String(at / 1000 + 600);
  const limits = () => new RateLimits(() => at);

  it.each([
    [
      'plenty left',
      { 'x-ratelimit-limit': '5000', 'x-ratelimit-remaining': '4000', 'x-ratelimit-reset': reset },
      null,
    ],
    [
      'under a tenth left',
      { 'x-ratelimit-limit': '5000', 'x-ratelimit-remaining': '499', 'x-ratelimit-reset': reset },
      '2026-12-01T10:10:00.000Z',
    ],
    ['a retry-after', { 'retry-after': '60' }, '2026-12-01T10:01:00.000Z'],
    [
      'another resource (search) low',
      { 'x-ratelimit-resource': 'search', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': reset },
      null,
    ],
    ['no rate-limit headers', { 'content-type': 'application/json' }, null],
  ])('%s', (_name, headers, lowUntil) => {
    const r = limits();
    r.observe('7', headers);
    expect(r.lowUntil('7')?.toISOString() ?? null).toBe(lowUntil);
    expect(r.lowUntil('8')).toBeNull(); // another installation's budget is its own
  });

  it('a window whose reset has passed is full again', () => {
    let now = at;
    const r = new RateLimits(() => now);
    r.observe('7', { 'x-ratelimit-limit': '5000', 'x-ratelimit-remaining': '3', 'x-ratelimit-reset': reset });
    expect(r.tightest()).toMatchObject({ key: '7', remaining: 3, lowUntil: '2026-12-01T10:10:00.000Z' });
    now = at + 601_000;
    expect(r.tightest()).toMatchObject({ key: '7', remaining: 5000, lowUntil: null });
    expect(r.lowUntil()).toBeNull();
  });
});

describe('the service reads the limit from every GitHub answer', () => {
  const ctx = useGithubService({ env: { HEALTH_PROBE_INTERVAL_MS: '600000' } });
  const gh = useGithubCalls();
  const resetAt = Math.floor(Date.now() / 1000) + 3600;
  const low = {
    'x-ratelimit-limit': '5000',
    'x-ratelimit-remaining': '42',
    'x-ratelimit-reset': String(resetAt),
    'x-ratelimit-resource': 'core',
  };

  /** docs-bot's PR #`n`; GitHub answers its check-run create with `headers`. */
  async function agentPr(n: number, headers: Record<string, string> = {}) {
    const payload = agentPullRequest('opened', { sha: String(n).repeat(40) });
    payload.pull_request.number = n;
    gh.scope()
      .get(`${REPO}/pulls/${n}/files`)
      .query({ per_page: 100 })
      .reply(200, [file('docs/a.md', '@@ -1 +1 @@\n+x')])
      .post(`${REPO}/check-runs`)
      .reply(201, { id: 500 + n }, headers);
    await postWebhook(ctx.service.port, 'pull_request', payload);
    await ctx.service.github!.settle(); // not drain: a deferred finding stays pending, by design
  }

  it('shows it in /metrics and /readyz; when low, the sweep and finding issues wait while gates go on', async () => {
    githubApi();
    gh.scope()
      .get(`${REPO}/contents/.github%2Fagent-governance.yml`)
      .query({ ref: 'master' })
      .reply(404)
      .get('/repos/Codertocat/.github/contents/.github%2Fagent-governance.yml')
      .reply(404);
    await agentPr(2, low);
    gh.take();

    const metrics = await (await fetch(`http://127.0.0.1:${ctx.service.port}/metrics`)).text();
    expect(metrics).toContain('agov_rate_limit_remaining{dependency="github"} 42');
    expect(metrics).toContain(`agov_rate_limit_reset_seconds{dependency="github"} ${resetAt}`);
    gh.scope().get('/app').reply(200, { id: 123 }); // the readiness probe
    const ready: any = await (await fetch(`http://127.0.0.1:${ctx.service.port}/readyz`)).json();
    const lowUntil = new Date(resetAt * 1000).toISOString();
    expect(ready.dependencies.github).toMatchObject({
      state: 'degraded',
      detail: `rate limit low: gates only until ${lowUntil}`,
      rateLimit: { key: '1', remaining: 42, limit: 5000, resetAt: lowUntil, lowUntil },
    });
    gh.take();

    // The sweep lists the installations (the App's own budget) and leaves this one alone.
    gh.scope()
      .get('/app/installations')
      .query({ per_page: 100 })
      .reply(200, [{ id: 1, account: { login: 'Codertocat' } }]);
    await ctx.service.github!.reconcileNow();
    expect(gh.take()).toEqual(['GET /app/installations?per_page=100']);

    // A finding's issue waits for the reset: no call now, still pending.
    const outbox = sqliteOf(ctx.service.runtime).outbox;
    const finding = { action: 'open' as const, repository: 'acme/findings', labels: ['bug'], key: 'k' };
    outbox.enqueue(sqliteOf(ctx.service.runtime).head().seq, findingIssueMessage(finding, new Date()));
    await ctx.service.github!.settle();
    expect(gh.take()).toEqual([]);
    expect(outbox.pendingCount('github')).toBe(1);
    expect(outbox.nextAttemptAt('github')).toBe(lowUntil);

    // A gate still gets its check run.
    await agentPr(3);
    expect(gh.take()).toEqual([`GET ${REPO}/pulls/3/files?per_page=100`, `POST ${REPO}/check-runs`]);
  });
});
