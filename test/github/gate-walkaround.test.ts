/**
 * Walking around the gate, as an attacker would, through the real webhook endpoint with signed
 * deliveries: a trailer that claims an agent, a review from anyone, a review from an agent, an
 * approval request left to expire with Slack off, a secret in a person's PR.
 */
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunningService } from '../../src/app/service.js';
import { dbOf } from '../../src/ledger/ledger.js';
import {
  API,
  agentPullRequest,
  examplePayload,
  file,
  githubApi,
  postWebhook,
  startGithubService,
} from '../helpers/github.js';
import { REPO } from '../helpers/github-reads.js';

const SHA = 'a'.repeat(40);
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

async function start(orgConfig?: string) {
  service = await startGithubService(orgConfig ? { orgConfig } : {});
  return service;
}

/** GitHub for one PR: no policy file, these files and commits, every check-run write recorded. */
function github(
  files: unknown[],
  commits: unknown[] = [{ sha: 'c1', commit: { message: 'Fix' } }],
  author = 'builder-bot[bot]',
  policies: { repo?: string; org?: string } = {},
) {
  githubApi();
  const checks: any[] = [];
  const pr = agentPullRequest('opened', { sha: SHA, login: author });
  const content = (text: string | undefined) =>
    text === undefined
      ? [404, { message: 'Not Found' }]
      : [200, { type: 'file', encoding: 'base64', content: Buffer.from(text).toString('base64') }];
  nock(API)
    .persist()
    .get(/\/contents\//)
    .query(true)
    .reply(
      (uri) => content(uri.startsWith('/repos/Codertocat/.github/') ? policies.org : policies.repo) as any,
    )
    .get(/\/pulls\/2\/commits/)
    .query(true)
    .reply(200, commits)
    .get(/\/pulls\/2\/files/)
    .query(true)
    .reply(200, files)
    .get(/\/pulls\/2$/)
    .reply(200, () => pr.pull_request)
    .get(/\/repos\/Codertocat\/Hello-World$/)
    .reply(200, () => pr.repository)
    .post(`${REPO}/check-runs`)
    .reply(201, (_u, b: any) => {
      checks.push(b);
      return { id: 900 };
    })
    .patch(`${REPO}/check-runs/900`)
    .reply(200, (_u, b: any) => {
      checks.push(b);
      return { id: 900 };
    });
  return { checks, last: () => checks.filter((c) => c.status === 'completed').at(-1) };
}

/** The PR opened by `login`, signed as GitHub signs it, and everything it causes done. */
async function opened(s: RunningService, login: string) {
  await postWebhook(s.port, 'pull_request', agentPullRequest('opened', { sha: SHA, login }));
  await s.github!.drain();
}

function review(login: string, prAuthor = 'builder-bot[bot]') {
  const payload = examplePayload('pull_request_review', 'submitted');
  payload.installation = { id: 1 };
  payload.repository = agentPullRequest().repository;
  payload.pull_request = agentPullRequest('opened', { sha: SHA, login: prAuthor }).pull_request;
  payload.review.state = 'approved';
  payload.review.user.login = login;
  payload.review.commit_id = SHA;
  return payload;
}

const db = () => dbOf(service!.runtime.ledger);
const lockFile = [file('package.json', '@@ -1 +1 @@\n+"left-pad": "1.3.0"')];

describe('a trailer is a claim: it makes a gate stricter, never charges or revokes the agent', () => {
  it("a person's PR carrying an agent's trailer and a fake key fails, and the agent is not revoked", async () => {
    const s = await start();
    const gh = github(
      [file('src/keys.ts', '@@ -1 +1,2 @@\n x\n+const k = "AKIAIOSFODNN7EXAMPLE";')],
      [{ sha: 'c1', commit: { message: 'Fix\n\nCo-Authored-By: Claude <noreply@anthropic.com>' } }],
    );
    const pr = agentPullRequest('opened', { sha: SHA, login: 'mallory' });
    await postWebhook(s.port, 'pull_request', pr);
    await s.github!.drain();

    expect(gh.last()).toMatchObject({ conclusion: 'failure' });
    expect(gh.last().output.summary).toContain(
      '| `claude-helper` | claimed (trailer Claude <noreply@anthropic.com>); opened by `mallory`, a person',
    );
    expect(db().prepare('SELECT COUNT(*) AS n FROM violations').get()).toEqual({ n: 0 });
    expect(await s.runtime.state.getRevokeSignal('claude-helper')).toBeNull();
    expect(await s.runtime.state.getAgent('claude-helper')).toMatchObject({ status: 'active' });
    const stored = db()
      .prepare(
        "SELECT json_extract(payload, '$.attribution.strength') AS strength FROM ledger_entries WHERE type = 'decision.recorded'",
      )
      .get();
    expect(stored).toEqual({ strength: 'claimed' });
  });
});

describe('only an authenticated attribution counts for the agent', () => {
  it("a merged person's PR that claims an agent by trailer adds nothing to the agent's record", async () => {
    const s = await start();
    github(
      [file('src/app.ts', '@@ -1 +1,2 @@\n x\n+y')],
      [{ sha: 'c1', commit: { message: 'Fix\n\nCo-Authored-By: Claude <noreply@anthropic.com>' } }],
      'mallory',
    );
    await postWebhook(s.port, 'pull_request', agentPullRequest('opened', { sha: SHA, login: 'mallory' }));
    const closed = agentPullRequest('closed', { sha: SHA, login: 'mallory' });
    closed.pull_request.merged = true;
    await postWebhook(s.port, 'pull_request', closed);
    await s.github!.drain();
    expect(
      db().prepare("SELECT merged_prs_total FROM agent_metrics WHERE agent_id = 'claude-helper'").get(),
    ).toEqual({ merged_prs_total: 0 });
    expect(db().prepare("SELECT COUNT(*) AS n FROM ledger_entries WHERE type = 'pr.merged'").get()).toEqual({
      n: 0,
    });
  });
});

describe('nobody approves unless named', () => {
  it('with no approvers configured, an approving review from any GitHub user passes nothing', async () => {
    const s = await start(`
agents:
  - { id: builder-bot, tier: T2, owner: olivia, github_logins: ["builder-bot[bot]"] }
`);
    const gh = github(lockFile);
    await opened(s, 'builder-bot[bot]');
    expect(gh.last()).toMatchObject({ conclusion: 'action_required' });

    await postWebhook(s.port, 'pull_request_review', review('mallory'));
    await s.github!.drain();
    expect(gh.last()).toMatchObject({
      conclusion: 'action_required',
      output: {
        title:
          'Needs approval: no approvers are configured for gate `default`: add `approvers:` to the organisation config',
      },
    });
    expect(gh.last().output.summary).toContain(
      '  - not counted: mallory: not a named approver of gate `default`',
    );
  });

  it('an approving review from another agent listed among the approvers never counts, revoked or not', async () => {
    const s = await start(`
agents:
  - { id: builder-bot, tier: T2, owner: olivia, github_logins: ["builder-bot[bot]"] }
  - { id: reviewer-bot, tier: T3, owner: olivia, github_logins: ["reviewer-bot"] }
approvers:
  - { github: reviewer-bot }
  - { github: alice }
`);
    expect(s.runtime.configWarnings.join('\n')).toContain(
      'approvers[0]: reviewer-bot belongs to agent reviewer-bot; an agent never approves',
    );
    const gh = github(lockFile);
    await opened(s, 'builder-bot[bot]');
    await s.runtime.governance.recordViolation(
      'reviewer-bot',
      { type: 'secret_exposure', details: 'leaked a key elsewhere' },
      'test',
      'github',
    );
    await postWebhook(s.port, 'pull_request_review', review('reviewer-bot'));
    await s.github!.drain();
    expect(gh.last()).toMatchObject({ conclusion: 'action_required' });
    expect(gh.last().output.summary).toContain('  - not counted: reviewer-bot: an agent never approves');

    await postWebhook(s.port, 'pull_request_review', review('alice'));
    await s.github!.drain();
    expect(gh.last()).toMatchObject({ conclusion: 'success', output: { title: 'Approved by alice' } });
  });
});

describe('expiry is the core’s, with or without Slack', () => {
  it('with Slack off, a request past its deadline is rejected and recorded; expiry never approves', async () => {
    const s = await start();
    const gh = github(lockFile);
    await opened(s, 'builder-bot[bot]');
    expect(gh.last()).toMatchObject({ conclusion: 'action_required' });

    await s.maintenance(new Date(Date.now() + 71 * 3600_000));
    await s.github!.drain();
    expect(gh.last()).toMatchObject({ conclusion: 'action_required' });

    await s.maintenance(new Date(Date.now() + 73 * 3600_000));
    await s.github!.drain();
    expect(gh.last()).toMatchObject({ conclusion: 'failure' });
    expect(gh.last().output.title).toMatch(/^Rejected: gate `default` expired at /);
    const decisions = db()
      .prepare(
        "SELECT json_extract(payload, '$.outcome') AS outcome, json_extract(payload, '$.trigger') AS trigger FROM ledger_entries WHERE type = 'decision.recorded' ORDER BY seq",
      )
      .all();
    expect(decisions.at(-1)).toEqual({ outcome: 'deny', trigger: 'expiry' });
    // Decided once: another sweep later changes nothing.
    await s.maintenance(new Date(Date.now() + 80 * 3600_000));
    expect(db().prepare("SELECT COUNT(*) AS n FROM decisions WHERE outcome = 'deny'").get()).toEqual({
      n: 1,
    });
  });
});

describe('the secret scan runs on every PR', () => {
  it("a secret in a person's PR fails the check, and no agent is charged", async () => {
    const s = await start();
    const gh = github([file('config.env', '@@ -0,0 +1 @@\n+AWS_KEY=AKIAIOSFODNN7EXAMPLE', 'added')]);
    await opened(s, 'octocat');
    expect(gh.last()).toMatchObject({ conclusion: 'failure', output: { title: 'Secret in added lines' } });
    expect(gh.last().output.annotations).toMatchObject([{ path: 'config.env', start_line: 1 }]);
    expect(db().prepare('SELECT COUNT(*) AS n FROM violations').get()).toEqual({ n: 0 });
  });

  it('a clean PR by a person stays neutral and says plainly that no agent rules applied', async () => {
    const s = await start();
    const gh = github([file('src/app.ts', '@@ -1 +1,2 @@\n x\n+y')]);
    await opened(s, 'octocat');
    expect(gh.last()).toMatchObject({
      conclusion: 'neutral',
      output: { title: 'Not an agent pull request: no agent rules applied' },
    });
    expect(gh.last().output.summary).toContain('The secret scan ran on it: no secret in added lines.');
  });
});

describe('what an outside attacker found (attack on issue 11)', () => {
  const orgPolicy =
    'rules:\n  protected_paths: { paths: ["infra/**"], action: require_approval, gate: default }\n';
  const infra = [file('infra/main.tf', '@@ -1 +1,2 @@\n x\n+y')];

  it.each([['extends: org\n'], ['extends: org   # inherit the organisation rules\n'], ['extends: "org"\n']])(
    '%j applies the organisation policy however it is spelled',
    async (repoPolicy) => {
      const s = await start();
      const gh = github(infra, undefined, 'builder-bot[bot]', { repo: repoPolicy, org: orgPolicy });
      await opened(s, 'builder-bot[bot]');
      expect(gh.last()).toMatchObject({ conclusion: 'action_required' });
    },
  );

  it('extends: org with no organisation policy fails the check and says so', async () => {
    const s = await start();
    const gh = github(infra, undefined, 'builder-bot[bot]', { repo: 'extends: org\n' });
    await opened(s, 'builder-bot[bot]');
    expect(gh.last()).toMatchObject({ conclusion: 'failure' });
    expect(gh.last().output.summary).toContain('extends: org, but Codertocat/.github has no');
  });

  it("a policy the service cannot use still leaves the built-in secret scan on a person's PR", async () => {
    const s = await start();
    const gh = github(
      [file('src/a.ts', '@@ -0,0 +1 @@\n+AKIAIOSFODNN7EXAMPLE', 'added')],
      undefined,
      'mallory',
      {
        repo: 'rules:\n  secrets: { patterns: ["(a)\\\\1"] }\n',
      },
    );
    await opened(s, 'mallory');
    expect(gh.last()).toMatchObject({ conclusion: 'failure', output: { title: 'Secret in added lines' } });
  });

  it('a rule that names a gate the policy does not define fails the check, naming it', async () => {
    const s = await start();
    const gh = github(infra, undefined, 'builder-bot[bot]', {
      repo: 'rules:\n  protected_paths: { paths: ["infra/**"], gate: protcted }\n',
    });
    await opened(s, 'builder-bot[bot]');
    expect(gh.last()).toMatchObject({ conclusion: 'failure' });
    expect(gh.last().output.summary).toContain('rules.protected_paths.gate: no gate "protcted" is defined');
  });

  it('a repository policy cannot make someone from people: an approver', async () => {
    const s = await start(`
agents:
  - { id: builder-bot, tier: T2, owner: olivia, github_logins: ["builder-bot[bot]"] }
approvers:
  - { github: alice }
people:
  - { github: dave }
`);
    const gh = github(lockFile, undefined, 'builder-bot[bot]', {
      repo: 'gates:\n  default: { approvals: 1, approvers: [dave] }\n',
    });
    await postWebhook(
      s.port,
      'pull_request',
      agentPullRequest('opened', { sha: SHA, login: 'builder-bot[bot]' }),
    );
    await postWebhook(s.port, 'pull_request_review', review('dave'));
    await s.github!.drain();
    expect(gh.last()).toMatchObject({ conclusion: 'action_required' });
    expect(gh.last().output.summary).toContain(
      'named but unknown to the organisation config (never counted): dave',
    );
  });

  it.each([[['helper', 'docs']], [['docs', 'helper']]])(
    'of several claimed agents the strictest decides, whatever the commit order (%j)',
    async (order) => {
      const s = await start(`
agents:
  - { id: docs-bot, tier: T1, owner: olivia, trailers: ["Docs Bot <docs-bot@example.com>"] }
  - { id: helper, tier: T2, owner: olivia, trailers: ["Helper <helper@example.com>"] }
approvers:
  - { github: alice }
`);
      await s.runtime.governance.recordViolation(
        'docs-bot',
        { type: 'secret_exposure', details: 'x' },
        't',
        'github',
      );
      const trailer = {
        helper: 'Helper <helper@example.com>',
        docs: 'Docs Bot <docs-bot@example.com>',
      } as const;
      const gh = github(
        [file('docs/a.md', '@@ -1 +1,2 @@\n x\n+y')],
        order.map((who, i) => ({
          sha: `c${i}`,
          commit: { message: `Fix\n\nCo-Authored-By: ${trailer[who as 'helper']}` },
        })),
        'mallory',
      );
      await opened(s, 'mallory');
      expect(gh.last()).toMatchObject({ conclusion: 'failure' });
      expect(gh.last().output.summary).toContain('agent is revoked');
    },
  );

  it('files beyond what GitHub lists are never taken as clean', async () => {
    const s = await start();
    const gh = github([file('docs/a.md', '@@ -1 +1,2 @@\n x\n+y')], undefined, 'builder-bot[bot]', {
      repo: 'rules:\n  diff_size: { enabled: false }\n',
    });
    const pr = agentPullRequest('opened', { sha: SHA, login: 'builder-bot[bot]' });
    pr.pull_request.changed_files = 3001;
    await postWebhook(s.port, 'pull_request', pr);
    await s.github!.drain();
    expect(gh.last()).toMatchObject({ conclusion: 'action_required' });
    expect(gh.last().output.summary).toContain('could not scan 3000 file(s) GitHub did not list');
  });
});
