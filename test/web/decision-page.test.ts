/**
 * The decision page: what a reviewer sees behind the check run's "Details" link. Gates come from
 * the one tally over the receipts in the ledger; the ledger entries behind the page are listed and
 * the chain is verified up to them; nothing an agent wrote becomes markup.
 */

import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sqliteOf } from '../../src/app/open-runtime.js';
import type { RunningService } from '../../src/app/service.js';
import { dbOf } from '../../src/ledger/ledger.js';
import { sqlite } from '../helpers/agov.js';
import { PRIVATE_KEY, postWebhook, WEBHOOK_SECRET } from '../helpers/github.js';
import { buttonBody, postSlack, SLACK_SECRET } from '../helpers/slack.js';
import { github, slackApi } from '../helpers/slack-service.js';
import {
  cookieHeader,
  gateRule,
  HEAD,
  REPO,
  recordApproval,
  recordWaitingDecision,
  signIn,
  startWebService,
} from './web-helpers.js';

let service: RunningService | null = null;
beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});
afterAll(() => nock.enableNetConnect());
afterEach(async () => {
  await service?.stop();
  service = null;
  nock.cleanAll();
});

async function pageOf(s: RunningService, path: string, login = 'alice', repos = [REPO]) {
  const { jar } = await signIn(s.port, login, repos);
  const res = await fetch(`http://127.0.0.1:${s.port}${path}`, { headers: { cookie: cookieHeader(jar) } });
  return { res, text: await res.text() };
}

/** The page's visible text, tags removed and whitespace folded: what a reader sees. */
const visible = (page: string) =>
  page
    .replace(/<[^>]+>/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&#96;/g, '`')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');

describe('a PR waiting for two gates', () => {
  it('shows each gate from the one tally: who approved under which head and policy, who is still needed, the deadline', async () => {
    service = await startWebService();
    const s = service;
    await recordWaitingDecision(s);
    await recordApproval(s, 'alice', 'security');
    // The gate that was approved drops out of the next decision, as the check records it.
    await recordWaitingDecision(s, {
      gates: [gateRule('platform', ['carol', 'olivia'])],
      summary: 'Waiting for 1 gate(s)',
    });

    const { res, text } = await pageOf(s, `/decisions/${REPO}/7`);
    expect(res.status).toBe(200);
    const seen = visible(text);
    expect(seen).toContain('Bump the widget cache');
    expect(seen).toContain('Agent builder-bot');
    expect(seen).toContain('Tier T2');
    expect(seen).toContain('Attribution authenticated (author builder-bot[bot])');
    expect(seen).toContain('protected_paths fire changes `infra/` which gate `security` protects');
    expect(seen).toContain('Gate security : approved');
    expect(seen).toContain(`alice via slack at`);
    expect(seen).toContain(`under head ${HEAD.slice(0, 7)} and policy pv-1`);
    expect(seen).toContain('Gate platform : waiting');
    // The agent's owner may not approve this gate: only carol is still asked.
    expect(seen).toContain('Still needed 1 more, from: carol');
    expect(seen).toMatch(/Deadline \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ \(then it is rejected\)/);
    // Two decisions in the history, newest first.
    expect(seen.match(/waiting for approval/g)?.length).toBeGreaterThanOrEqual(2);
    expect(seen).toMatch(
      /The chain verifies from entry 1 up to entry \d+ \(verified whole at most a minute ago/,
    );
    const decisionSeqs = dbOf(sqliteOf(s.runtime))
      .prepare(
        "SELECT seq, hash FROM ledger_entries WHERE type IN ('decision.recorded', 'approval.recorded')",
      )
      .all() as { seq: number; hash: string }[];
    for (const e of decisionSeqs) expect(text).toContain(`<tr id="entry-${e.seq}"><td>${e.seq}</td>`);
    for (const e of decisionSeqs) expect(text).toContain(e.hash);
  });

  it('a chain edited under the page says it does not verify', async () => {
    service = await startWebService();
    const s = service;
    await recordWaitingDecision(s);
    const path = s.runtime.env.LEDGER_PATH;
    const r = sqlite(
      path,
      "DROP TRIGGER ledger_entries_no_update; UPDATE ledger_entries SET payload = replace(payload, 'Bump', 'Bumq') WHERE type = 'decision.recorded';",
    );
    expect(r.stderr).toBe('');
    const { text } = await pageOf(s, `/decisions/${REPO}/7`);
    expect(visible(text)).toMatch(/The chain does NOT verify: entry \d+ was changed after it was written/);
  });
});

describe('rendering cannot inject', () => {
  it('agent-supplied text renders as text, and the page forbids inline script and framing', async () => {
    service = await startWebService();
    const s = service;
    const evil = `<script>alert(1)</script><img src=x onerror="alert(2)">`;
    await s.runtime.governance.recordDecision(
      {
        agentId: 'builder-bot',
        repository: REPO,
        number: 9,
        headSha: HEAD,
        outcome: 'deny',
        summary: `Denied ${evil}`,
        tier: 'T2',
        policyVersion: 'pv-1',
        diffHash: 'dh-1',
        rules: [{ rule: 'paths', status: 'fire', summary: `touches ${evil}` }],
        violations: [],
        author: 'builder-bot[bot]',
        title: evil,
        url: 'javascript:alert(3)',
        files: [{ path: `${evil}.ts`, previousPath: null, status: 'added', additions: 1, deletions: 0 }],
      },
      'test',
    );
    const { res, text } = await pageOf(s, `/decisions/${REPO}/9`);
    expect(res.status).toBe(200);
    expect(text).not.toMatch(/<script|<img|javascript:/i);
    expect(text).toContain(
      '&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=&quot;alert(2)&quot;&gt;',
    );
    expect(visible(text)).toContain(`Denied ${evil}`);
    expect(res.headers.get('content-security-policy')).toBe(
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    );
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
  });
});

describe("the check run's details link", () => {
  it('with PUBLIC_URL, every check run links to its decision page, which opens for a person who can see the repository', async () => {
    service = await startWebService({
      APP_ID: '123',
      PRIVATE_KEY,
      WEBHOOK_SECRET,
      PUBLIC_URL: 'https://governance.example.com',
    });
    const s = service;
    const gh = github('gates:\n  default: { approvals: 2, allow_owner: false }\n');
    await postWebhook(s.port, 'pull_request', gh.pr);
    await s.github!.drain();
    expect(gh.checks.length).toBeGreaterThan(0);
    for (const check of gh.checks)
      expect(check.details_url).toBe('https://governance.example.com/decisions/Codertocat/Hello-World/2');
    const { res, text } = await pageOf(s, '/decisions/Codertocat/Hello-World/2', 'alice', [
      'codertocat/hello-world',
    ]);
    expect(res.status).toBe(200);
    expect(visible(text)).toContain('Gate default : waiting');
  });

  it('a link by commit leads to the PR decided at that commit', async () => {
    service = await startWebService();
    const s = service;
    await recordWaitingDecision(s);
    const { jar } = await signIn(s.port, 'bob', [REPO]);
    const res = await fetch(`http://127.0.0.1:${s.port}/decisions/${REPO}/commit/${HEAD}`, {
      redirect: 'manual',
      headers: { cookie: cookieHeader(jar) },
    });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe(`/decisions/${REPO}/7`);
  });

  it("a merge queue's check links to its group's commit: each PR, its verdict and why", async () => {
    service = await startWebService();
    const s = service;
    const group = 'd'.repeat(40);
    await s.runtime.governance.record([
      {
        type: 'merge_group.checked',
        agentId: null,
        actor: 'github',
        payload: {
          repository: REPO,
          headSha: group,
          baseSha: null,
          headRef: `refs/heads/gh-readonly-queue/main/pr-7-${HEAD}`,
          conclusion: 'failure',
          summary: 'PR #7 has not passed Agent Governance',
          pullRequests: [
            {
              number: 7,
              headSha: HEAD,
              agentId: 'builder-bot',
              passed: false,
              reason: 'agent `builder-bot` is revoked',
            },
          ],
        },
      },
    ]);
    const { res, text } = await pageOf(s, `/decisions/${REPO}/commit/${group}`);
    expect(res.status).toBe(200);
    const seen = visible(text);
    expect(seen).toContain('Failed : PR #7 has not passed Agent Governance');
    expect(seen).toContain(`#7 at ${HEAD.slice(0, 7)} builder-bot failed agent \`builder-bot\` is revoked`);
    expect(text).toContain(`href="/decisions/${REPO}/7"`);
  });

  it('a queued check links to a PR with no decision yet: the page says so instead of 404', async () => {
    service = await startWebService();
    const { res, text } = await pageOf(service, `/decisions/${REPO}/12`);
    expect(res.status).toBe(200);
    expect(visible(text)).toContain('No decision is recorded for this pull request yet');
    const hidden = await pageOf(service, '/decisions/other/repo/12');
    expect(hidden.res.status).toBe(404);
  });
});

describe('an approval in Slack shows on the page', () => {
  it('a signed Slack click by a named approver moves the gate: who approved, who is still needed', async () => {
    service = await startWebService(
      {
        APP_ID: '123',
        PRIVATE_KEY,
        WEBHOOK_SECRET,
        SLACK_SIGNING_SECRET: SLACK_SECRET,
        SLACK_BOT_TOKEN: 'xoxb-test-token',
      },
      `
agents:
  - { id: builder-bot, tier: T2, owner: olivia, github_logins: ["builder-bot[bot]"] }
approvers:
  - { github: alice, slack: UALICE }
  - { github: bob, slack: UBOB }
  - { github: carol, slack: UCAROL }
  - { github: olivia, slack: UOLIVIA }
slack:
  approvals_channel: C0APPROVALS
`,
    );
    const s = service;
    const gh = github('gates:\n  default: { approvals: 2, allow_owner: false }\n');
    slackApi();
    await postWebhook(s.port, 'pull_request', gh.pr);
    await s.github!.drain();
    await s.slack!.pump.runNow();
    const path = '/decisions/Codertocat/Hello-World/2';
    const before = await pageOf(s, path, 'carol', ['codertocat/hello-world']);
    expect(visible(before.text)).toContain('Still needed 2 more, from: alice, bob, carol');

    const key = `Codertocat/Hello-World#2@${'a'.repeat(40)}`;
    expect((await postSlack(s.port, buttonBody('approval_approve', key, 'UALICE'))).status).toBe(200);
    await s.slack!.receiver.idle();
    await s.github!.drain();
    const after = visible((await pageOf(s, path, 'carol', ['codertocat/hello-world'])).text);
    expect(after).toContain('Gate default : waiting');
    expect(after).toMatch(/alice via slack at .+ under head aaaaaaa and policy/);
    expect(after).toContain('Still needed 1 more, from: bob, carol');
  });
});
