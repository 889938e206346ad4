import nock from 'nock';
import { describe, expect, it } from 'vitest';
import { API, agentPullRequest, file, githubApi, postWebhook, useGithubService } from '../helpers/github.js';
import { REPO } from '../helpers/github-reads.js';

const ctx = useGithubService();
const SHA = 'e'.repeat(40);

/** GitHub for one agent PR: the policy file (404 unless given), its commits and files; check runs recorded. */
function github(files: unknown[], policyText: string | null = null) {
  githubApi();
  const calls: any[] = [];
  const scope = nock(API).persist();
  if (policyText === null) {
    scope.get(`${REPO}/contents/.github%2Fagent-governance.yml`).query(true).reply(404, {});
    scope.get('/repos/Codertocat/.github/contents/.github%2Fagent-governance.yml').reply(404, {});
  } else {
    scope
      .get(`${REPO}/contents/.github%2Fagent-governance.yml`)
      .query(true)
      .reply(200, {
        type: 'file',
        path: '.github/agent-governance.yml',
        content: Buffer.from(policyText).toString('base64'),
        encoding: 'base64',
      });
    // Read for every repository: what the organisation's file enforces applies everywhere.
    scope.get('/repos/Codertocat/.github/contents/.github%2Fagent-governance.yml').reply(404, {});
  }
  scope
    .get(/\/repos\/Codertocat\/Hello-World\/pulls\/\d+\/commits/)
    .query(true)
    .reply(200, [{ sha: 'c', commit: { message: 'loop' } }])
    .get(/\/repos\/Codertocat\/Hello-World\/pulls\/\d+\/files/)
    .query(true)
    .reply(200, files)
    .post(`${REPO}/check-runs`)
    .reply(201, (_u, body: any) => {
      calls.push(body);
      return { id: 700 };
    })
    .patch(/\/check-runs\/\d+$/)
    .reply(200, (_u, body: any) => {
      calls.push(body);
      return { id: 700 };
    });
  return { final: () => calls.filter((c) => c.status === 'completed').at(-1) };
}

async function openAgentPr() {
  await postWebhook(
    ctx.service.port,
    'pull_request',
    agentPullRequest('opened', { sha: SHA, login: 'builder-bot[bot]' }),
  );
  await ctx.service.github!.drain();
}

describe('the secret scan over a signed pull_request delivery', () => {
  it('fails an agent PR whose added line begins with ++ and holds a key', async () => {
    const gh = github([
      file('src/loop.ts', '@@ -1,1 +1,2 @@\n for (;;) {\n+++i; const k = "AKIAIOSFODNN7EXAMPLE";'),
    ]);
    await openAgentPr();
    const check = gh.final();
    expect(check).toMatchObject({ conclusion: 'failure' });
    expect(check.output.summary).toContain('secret(s) in added lines: `src/loop.ts:2`');
    expect(check.output.annotations).toContainEqual({
      path: 'src/loop.ts',
      start_line: 2,
      end_line: 2,
      annotation_level: 'failure',
      title: 'Secret in added line',
      message: 'looks like a AWS access key id; remove it and rotate the credential',
    });
  });

  it('says on the check which binary file it could not scan, and holds the PR', async () => {
    const gh = github([
      { sha: 'sha-key', filename: 'certs/key.p12', status: 'added', additions: 0, deletions: 0, changes: 0 },
    ]);
    await openAgentPr();
    const check = gh.final();
    expect(check).toMatchObject({ conclusion: 'action_required' });
    expect(check.output.summary).toContain('could not scan `certs/key.p12`');
    expect(check.output.annotations).toContainEqual(
      expect.objectContaining({
        path: 'certs/key.p12',
        annotation_level: 'warning',
        title: 'Not scanned for secrets',
      }),
    );
  });

  it('fails the check, naming the line, when the policy holds a pattern RE2 cannot run', async () => {
    const gh = github(
      [file('docs/a.md', '@@ -0,0 +1 @@\n+hello')],
      'rules:\n  secrets:\n    patterns:\n      - "(a)\\\\1"\n',
    );
    await openAgentPr();
    const check = gh.final();
    expect(check).toMatchObject({
      conclusion: 'failure',
      output: { title: 'The governance policy file is invalid' },
    });
    expect(check.output.summary).toMatch(
      /Codertocat\/Hello-World:\.github\/agent-governance\.yml:4:9: rules\.secrets\.patterns\[0\]: not a pattern the linear-time engine \(RE2\) accepts/,
    );
  });
});
