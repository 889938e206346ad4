/**
 * Organisation-enforced rules through the real webhook endpoint: the organisation's `.github`
 * policy is read for every repository (a repository that does not extend it included), a looser
 * repository file fails the check with the rule and both values named, and a repository that
 * tightens is judged by the enforced rule it never wrote.
 */
import { describe, expect, it } from 'vitest';
import { agentPullRequest, file, githubApi, postWebhook, useGithubService } from '../helpers/github.js';
import { useGithubCalls } from '../helpers/github-calls.js';
import { REPO } from '../helpers/github-reads.js';

const ctx = useGithubService();
const gh = useGithubCalls();

const REPO_POLICY = `${REPO}/contents/.github%2Fagent-governance.yml`;
const ORG_POLICY = '/repos/Codertocat/.github/contents/.github%2Fagent-governance.yml';
const ORG_FILE = 'Codertocat/.github:.github/agent-governance.yml';
const REPO_FILE = 'Codertocat/Hello-World:.github/agent-governance.yml';

const ORG = `
rules:
  diff_size: { enforced: true, max_files: 2 }
  protected_paths: { enforced: true, paths: ["secure/**"], action: require_approval, gate: security }
gates:
  security: { enforced: true, approvals: 2, approvers: [alice, bob], allow_owner: false }
`;

const content = (text: string) => ({
  type: 'file',
  encoding: 'base64',
  content: Buffer.from(text).toString('base64'),
});

/**
 * GitHub for one agent PR (builder-bot, T2): both policy files, its files (null: never read, the
 * policy cannot be used), and the check run.
 */
async function judge(repoPolicy: string, files: unknown[] | null): Promise<any> {
  githubApi();
  const bodies: any[] = [];
  const scope = gh
    .scope()
    .get(REPO_POLICY)
    .query({ ref: 'master' })
    .reply(200, content(repoPolicy))
    .get(ORG_POLICY)
    .reply(200, content(ORG));
  if (files) scope.get(`${REPO}/pulls/2/files`).query({ per_page: 100 }).reply(200, files);
  scope.post(`${REPO}/check-runs`, (b) => bodies.push(b) > 0).reply(201, { id: 41 });
  const payload = agentPullRequest('opened', { login: 'builder-bot[bot]' });
  expect((await postWebhook(ctx.service.port, 'pull_request', payload)).status).toBe(202);
  await ctx.service.github!.drain();
  expect(bodies).toHaveLength(1);
  return bodies[0];
}

describe("the organisation's enforced rules apply to every repository", () => {
  it('a repository file that loosens an enforced rule (without extends: org) fails the check, naming the rule and both values', async () => {
    const check = await judge('rules:\n  diff_size: { max_files: 500 }\n', null);
    expect(gh.take()).toEqual([
      `GET ${REPO_POLICY}?ref=master`,
      `GET ${ORG_POLICY}`,
      `POST ${REPO}/check-runs`,
    ]);
    expect(check).toMatchObject({
      status: 'completed',
      conclusion: 'failure',
      output: { title: 'The governance policy file is invalid' },
    });
    expect(check.output.summary).toContain(
      `${REPO_FILE}: rules.diff_size.max_files: 500 instead of 2: a larger limit (or none) is looser, looser than ${ORG_FILE} enforces`,
    );
    const decision = await ctx.service.runtime.store.reader.all('SELECT outcome FROM decisions');
    expect(decision).toEqual([{ outcome: 'config_error' }]);
  });

  it('`enforced: false` in the repository file and a renamed gate are refused too', async () => {
    const check = await judge(
      [
        'rules:',
        '  protected_paths: { enforced: false, gate: lax }',
        'gates:',
        '  lax: { approvals: 1, approvers: [alice, bob] }',
        '',
      ].join('\n'),
      null,
    );
    expect(check.conclusion).toBe('failure');
    expect(check.output.summary).toContain(
      `${REPO_FILE}: rules.protected_paths.enforced: false: ${ORG_FILE} enforces rules.protected_paths; only that file can release it`,
    );
    expect(check.output.summary).toContain(
      "rules.protected_paths.gate: gate `lax` instead of `security`: approvals 1 < 2; the agent's owner may approve",
    );
  });

  it('a repository that extends a template and tightens is judged by the enforced rule it never wrote', async () => {
    const check = await judge('extends: default\nrules:\n  diff_size: { max_lines: 100 }\n', [
      file('secure/keys.ts', '@@ -1 +1 @@\n+x'),
    ]);
    expect(check.conclusion).toBe('action_required');
    expect(check.output.summary).toContain('protected path(s) changed: `secure/keys.ts`');
    expect(check.output.summary).toContain('gate `security` needs 2 more approval(s) from alice, bob');
  });
});
