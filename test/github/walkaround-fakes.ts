/** The GitHub and the service the gate walk-around tests attack: one service per test, its config chosen. */
import nock from 'nock';
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { RunningService } from '../../src/app/service.js';
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

export const SHA = 'a'.repeat(40);
export const lockFile = [file('package.json', '@@ -1 +1 @@\n+"left-pad": "1.3.0"')];

/**
 * The hooks: no network but loopback, and the service a test starts (with its own organisation
 * config, or the default one) stopped after it with every interceptor cleared.
 */
export function useServiceOnDemand() {
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
  return {
    async start(orgConfig?: string) {
      service = await startGithubService(orgConfig ? { orgConfig } : {});
      return service;
    },
    get service(): RunningService {
      if (!service) throw new Error('no service started in this test');
      return service;
    },
  };
}

/** GitHub for one PR: no policy file, these files and commits, every check-run write recorded. */
export function github(
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
export async function opened(s: RunningService, login: string) {
  await postWebhook(s.port, 'pull_request', agentPullRequest('opened', { sha: SHA, login }));
  await s.github!.drain();
}

/** An approving review of the PR at SHA by `login`. */
export function review(login: string, prAuthor = 'builder-bot[bot]') {
  const payload = examplePayload('pull_request_review', 'submitted');
  payload.installation = { id: 1 };
  payload.repository = agentPullRequest().repository;
  payload.pull_request = agentPullRequest('opened', { sha: SHA, login: prAuthor }).pull_request;
  payload.review.state = 'approved';
  payload.review.user.login = login;
  payload.review.commit_id = SHA;
  return payload;
}
