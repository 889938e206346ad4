/**
 * Walking around the gate, as an attacker would, through the real webhook endpoint with signed
 * deliveries: a trailer that claims an agent, a review from anyone, a review from an agent, an
 * approval request left to expire with Slack off, a secret in a person's PR.
 */
import { describe, expect, it } from 'vitest';
import { agentPullRequest, file, postWebhook } from '../helpers/github.js';
import { github, lockFile, opened, review, SHA, useServiceOnDemand } from './walkaround-fakes.js';

const running = useServiceOnDemand();
const { start } = running;
const reader = () => running.service.runtime.store.reader;

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
    expect(await reader().get('SELECT COUNT(*) AS n FROM violations')).toEqual({ n: 0 });
    expect(await s.runtime.state.getRevokeSignal('claude-helper')).toBeNull();
    expect(await s.runtime.state.getAgent('claude-helper')).toMatchObject({ status: 'active' });
    const stored = await reader().get(
      "SELECT json_extract(payload, '$.attribution.strength') AS strength FROM ledger_entries WHERE type = 'decision.recorded'",
    );
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
      await reader().get("SELECT merged_prs_total FROM agent_metrics WHERE agent_id = 'claude-helper'"),
    ).toEqual({ merged_prs_total: 0 });
    expect(await reader().get("SELECT COUNT(*) AS n FROM ledger_entries WHERE type = 'pr.merged'")).toEqual({
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
    const decisions = await reader().all(
      "SELECT json_extract(payload, '$.outcome') AS outcome, json_extract(payload, '$.trigger') AS trigger FROM ledger_entries WHERE type = 'decision.recorded' ORDER BY seq",
    );
    expect(decisions.at(-1)).toEqual({ outcome: 'deny', trigger: 'expiry' });
    // Decided once: another sweep later changes nothing.
    await s.maintenance(new Date(Date.now() + 80 * 3600_000));
    expect(await reader().get("SELECT COUNT(*) AS n FROM decisions WHERE outcome = 'deny'")).toEqual({
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
    expect(await reader().get('SELECT COUNT(*) AS n FROM violations')).toEqual({ n: 0 });
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
