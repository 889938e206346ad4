/**
 * `approvers: codeowners` gates through the real endpoints: signed GitHub deliveries and Slack
 * clicks, GitHub stubbed at its documented REST paths (the contents API for CODEOWNERS where GitHub
 * looks for it, `GET /orgs/{org}/teams/{team_slug}/members` for teams), every call accounted for.
 */
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunningService } from '../../src/app/service.js';
import { agentPullRequest, examplePayload, file, githubApi, postWebhook } from '../helpers/github.js';
import { useGithubCalls } from '../helpers/github-calls.js';
import { POLICY_PATH, REPO } from '../helpers/github-reads.js';
import { buttonBody, postSlack } from '../helpers/slack.js';
import { slackApi, startWith } from '../helpers/slack-service.js';

const SHA = 'a'.repeat(40);
const KEY = `Codertocat/Hello-World#2@${SHA}`;
const ORG = `
agents:
  - { id: builder-bot, tier: T2, owner: olivia, github_logins: ["builder-bot[bot]"] }
approvers:
  - { github: alice, slack: UALICE }
  - { github: bob, slack: UBOB }
  - { github: carol, slack: UCAROL }
  - { github: olivia, slack: UOLIVIA }
slack:
  approvals_channel: C0APPROVALS
`;
const POLICY = `
rules:
  protected_paths: { paths: ["api/**", "docs/**", "vendor/**"], action: require_approval, gate: owners }
gates:
  owners: { approvers: codeowners }
`;
const CODEOWNERS = '# owners\n/api/  @Codertocat/api-team\n/docs/ @carol @mallory\n';

const ORG_POLICY = '/repos/Codertocat/.github/contents/.github%2Fagent-governance.yml';
const IN_GITHUB = `${REPO}/contents/.github%2FCODEOWNERS`;
const AT_ROOT = `${REPO}/contents/CODEOWNERS`;
const TEAM = '/orgs/Codertocat/teams/api-team/members';
const TEAM_MEMBERS = [{ login: 'alice' }, { login: 'builder-bot[bot]' }];

const gh = useGithubCalls();
let service: RunningService;

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});
afterAll(() => nock.enableNetConnect());
afterEach(async () => {
  await service.stop();
  nock.cleanAll();
});

const content = (text: string) => ({
  type: 'file',
  encoding: 'base64',
  content: Buffer.from(text).toString('base64'),
});

async function settle() {
  await service.slack!.receiver.idle();
  await service.github!.drain();
  await service.slack!.pump.runNow();
  await service.github!.drain();
}

/** GitHub's answers to the first evaluation: both policies, CODEOWNERS at the root, the team, the PR's files. */
function firstReads(files: unknown[], checks: any[], team: [number, unknown] = [200, TEAM_MEMBERS]) {
  githubApi();
  gh.scope()
    .get(POLICY_PATH)
    .query({ ref: 'master' })
    .reply(200, content(POLICY))
    .get(ORG_POLICY)
    .reply(404)
    .get(IN_GITHUB)
    .query({ ref: 'master' })
    .reply(404)
    .get(AT_ROOT)
    .query({ ref: 'master' })
    .reply(200, content(CODEOWNERS), { ETag: '"co1"' })
    .get(TEAM)
    .query({ per_page: 100, page: 1 })
    .reply(team[0], team[1] as any, { ETag: '"team1"' })
    .get(`${REPO}/pulls/2/files`)
    .query({ per_page: 100 })
    .reply(200, files)
    .post(`${REPO}/check-runs`)
    .reply(201, (_u, b: any) => {
      checks.push(b);
      return { id: 700 };
    });
}

/**
 * Later evaluations: the repository and the PR (a Slack vote reads them afresh), its files and check-run updates;
 * CODEOWNERS and the team come from the cache.
 */
function laterReads(files: unknown[], checks: any[]) {
  const { pull_request, repository } = agentPullRequest('opened', { sha: SHA, login: 'builder-bot[bot]' });
  gh.scope()
    .persist()
    .get(REPO)
    .reply(200, repository)
    .get(`${REPO}/pulls/2`)
    .reply(200, pull_request)
    .get(`${REPO}/pulls/2/files`)
    .query({ per_page: 100 })
    .reply(200, files)
    .patch(`${REPO}/check-runs/700`)
    .reply(200, (_u, b: any) => {
      checks.push(b);
      return { id: 700 };
    });
}

async function openPr(files: unknown[], team?: [number, unknown]) {
  const checks: any[] = [];
  firstReads(files, checks, team);
  const slack = slackApi();
  await postWebhook(
    service.port,
    'pull_request',
    agentPullRequest('opened', { sha: SHA, login: 'builder-bot[bot]' }),
  );
  await settle();
  const last = () => checks.filter((c) => c.status === 'completed').at(-1);
  const card = () => {
    const sent = slack.filter((c) => c.method === 'chat.postMessage' || c.method === 'chat.update').at(-1)!;
    return JSON.stringify(JSON.parse(sent.body.blocks));
  };
  return { checks, slack, last, card };
}

function review(login: string) {
  const payload = examplePayload('pull_request_review', 'submitted');
  payload.installation = { id: 1 };
  payload.repository = agentPullRequest().repository;
  payload.pull_request = agentPullRequest('opened', { sha: SHA, login: 'builder-bot[bot]' }).pull_request;
  payload.review.state = 'approved';
  payload.review.user.login = login;
  payload.review.commit_id = SHA;
  return payload;
}

describe('a gate with approvers: codeowners', () => {
  it("the check and the Slack card name the paths still missing an owner's approval until every path has one", async () => {
    service = await startWith(ORG);
    const files = [file('api/a.ts', '@@ -1 +1 @@\n+x'), file('docs/x.md', '@@ -1 +1 @@\n+y')];
    const pr = await openPr(files);
    expect(gh.take().sort()).toEqual(
      [
        `GET ${POLICY_PATH}?ref=master`,
        `GET ${ORG_POLICY}`,
        `GET ${IN_GITHUB}?ref=master`,
        `GET ${AT_ROOT}?ref=master`,
        `GET ${TEAM}?per_page=100&page=1`,
        `GET ${REPO}/pulls/2/files?per_page=100`,
        `POST ${REPO}/check-runs`,
      ].sort(),
    );
    expect(pr.last()).toMatchObject({ conclusion: 'action_required' });
    expect(pr.last().output.title).toBe(
      "Needs approval: gate `owners` needs a code owner's approval for `api/a.ts` (from alice); `docs/x.md` (from carol)",
    );
    expect(pr.last().output.summary).toContain(
      '  - named but unknown to the organisation config (never counted): @builder-bot[bot] of @Codertocat/api-team (not an approver of the organisation config), @mallory (not an approver of the organisation config)',
    );
    expect(pr.card()).toContain(
      "needs a code owner's approval for api/a.ts (from alice); docs/x.md (from carol)",
    );

    laterReads(files, pr.checks);
    expect((await postSlack(service.port, buttonBody('approval_approve', KEY, 'UALICE'))).status).toBe(200);
    await settle();
    expect(pr.last().output.title).toBe(
      "Needs approval: gate `owners` needs a code owner's approval for `docs/x.md` (from carol)",
    );
    expect(pr.card()).toContain("needs a code owner's approval for docs/x.md (from carol)");

    // The agent's own review never counts, even though its team owns the path.
    await postWebhook(service.port, 'pull_request_review', review('builder-bot[bot]'));
    await settle();
    expect(pr.last().output.title).toContain('`docs/x.md` (from carol)');

    await postWebhook(service.port, 'pull_request_review', review('carol'));
    await settle();
    expect(pr.last()).toMatchObject({ conclusion: 'success', output: { title: 'Approved by alice, carol' } });
    // Every later evaluation read CODEOWNERS and the team from the cache: no call for them.
    expect(gh.take().filter((c) => c.includes('CODEOWNERS') || c.includes('/teams/'))).toEqual([]);
  });

  it('a path no line of CODEOWNERS owns means nobody can approve: the check says so and waits', async () => {
    service = await startWith(ORG);
    const pr = await openPr([file('vendor/lib.c', '@@ -1 +1 @@\n+x')]);
    expect(pr.last()).toMatchObject({ conclusion: 'action_required' });
    expect(pr.last().output.title).toBe(
      'Needs approval: gate `owners` cannot be approved: nobody may approve `vendor/lib.c`: no line of CODEOWNERS matches it',
    );
    expect(pr.card()).toContain('nobody may approve vendor/lib.c: no line of CODEOWNERS matches it');
    gh.take();
  });

  it('a team GitHub will not list counts for nobody: the path waits and the check says why', async () => {
    service = await startWith(ORG);
    const pr = await openPr([file('api/a.ts', '@@ -1 +1 @@\n+x')], [404, { message: 'Not Found' }]);
    expect(pr.last()).toMatchObject({ conclusion: 'action_required' });
    expect(pr.last().output.title).toBe(
      'Needs approval: gate `owners` cannot be approved: nobody may approve `api/a.ts`: no owner CODEOWNERS:2 (`/api/`) names may approve: @Codertocat/api-team (no such team could be read (404))',
    );
    gh.take();
  });

  it('CODEOWNERS is kept like the policy: a push that changes it makes the next event ask with If-None-Match', async () => {
    service = await startWith(ORG);
    const files = [file('docs/x.md', '@@ -1 +1 @@\n+y')];
    const pr = await openPr(files);
    gh.take();
    const push = examplePayload('push', undefined as never);
    push.installation = { id: 1 };
    push.repository = agentPullRequest().repository;
    push.ref = `refs/heads/${push.repository.default_branch}`;
    push.commits = [
      { id: 'f'.repeat(40), message: 'Owners', added: [], removed: [], modified: ['CODEOWNERS'] },
    ];
    expect((await postWebhook(service.port, 'push', push)).status).toBe(202);
    await settle();

    gh.scope()
      .get(POLICY_PATH)
      .query({ ref: 'master' })
      .reply(200, content(POLICY))
      .get(IN_GITHUB)
      .query({ ref: 'master' })
      .reply(404)
      .get(AT_ROOT)
      .query({ ref: 'master' })
      .matchHeader('if-none-match', '"co1"')
      .reply(304, '', { ETag: '"co1"' })
      .get(`${REPO}/pulls/2/files`)
      .query({ per_page: 100 })
      .reply(200, files);
    const edited = agentPullRequest('opened', { sha: SHA, login: 'builder-bot[bot]' });
    edited.action = 'edited';
    await postWebhook(service.port, 'pull_request', edited);
    await settle();
    expect(gh.take().sort()).toEqual(
      [
        `GET ${POLICY_PATH}?ref=master`,
        `GET ${IN_GITHUB}?ref=master`,
        `GET ${AT_ROOT}?ref=master`,
        `GET ${REPO}/pulls/2/files?per_page=100`,
      ].sort(),
    );
    // Nothing the verdict depends on changed: no second check-run write.
    expect(pr.checks).toHaveLength(1);
  });
});
