/**
 * What an outside attacker found walking around the gate (the attack on issue 11), replayed through
 * the real webhook endpoint with signed deliveries: policy files that try to escape the organisation's
 * rules, claims of several agents, and files GitHub does not list.
 */
import { describe, expect, it } from 'vitest';
import { agentPullRequest, file, postWebhook } from '../helpers/github.js';
import { github, lockFile, opened, review, SHA, useServiceOnDemand } from './walkaround-fakes.js';

const { start } = useServiceOnDemand();

describe('what a repository policy file cannot do (attack on issue 11)', () => {
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
});

describe('no claim or unlisted file makes a PR look better than it is (attack on issue 11)', () => {
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
