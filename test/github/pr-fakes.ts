import nock from 'nock';
import { API, agentPullRequest, examplePayload, githubApi } from '../helpers/github.js';
import { REPO } from '../helpers/github-reads.js';

export const SHA_A = 'a'.repeat(40);
export const SHA_B = 'b'.repeat(40);

/** Reads answered for any number of evaluations, and every check-run call recorded. */
export function github(files: unknown[]) {
  githubApi();
  const calls: any[] = [];
  const ids: Record<string, number> = {};
  let next = 500;
  nock(API)
    .persist()
    .get(`${REPO}/contents/.github%2Fagent-governance.yml`)
    .query(true)
    .reply(404, {})
    .get('/repos/Codertocat/.github/contents/.github%2Fagent-governance.yml')
    .reply(404, {})
    .get(/\/repos\/Codertocat\/Hello-World\/pulls\/\d+\/commits/)
    .query(true)
    .reply(200, [{ sha: 'c', commit: { message: 'bump' } }])
    .get(/\/repos\/Codertocat\/Hello-World\/pulls\/\d+\/files/)
    .query(true)
    .reply(200, files)
    .post(`${REPO}/check-runs`)
    .reply(201, (_u, body: any) => {
      ids[body.head_sha] = next++;
      calls.push({ sha: body.head_sha, ...body });
      return { id: ids[body.head_sha] };
    })
    .patch(/\/check-runs\/\d+$/)
    .reply(200, (uri, body: any) => {
      const id = Number(uri.split('/').pop());
      calls.push({ sha: Object.keys(ids).find((s) => ids[s] === id), ...body });
      return { id };
    });
  const last = (sha: string) => calls.filter((c) => c.sha === sha && c.status === 'completed').at(-1);
  return { calls, last };
}

/** builder-bot's (T2) PR at `sha`. */
export function builderPr(action: string, sha: string) {
  return agentPullRequest(action, { sha, login: 'builder-bot[bot]' });
}

/** An approving review of builder-bot's PR at `sha` by `login`. */
export function review(login: string, sha: string) {
  const payload = examplePayload('pull_request_review', 'submitted');
  payload.installation = { id: 1 };
  payload.repository = agentPullRequest().repository;
  payload.pull_request = builderPr('opened', sha).pull_request;
  payload.review.state = 'approved';
  payload.review.user.login = login;
  payload.review.commit_id = sha;
  return payload;
}
