import nock from 'nock';
import { API } from './github.js';

export const REPO = '/repos/Codertocat/Hello-World';
/** Where the policy is read: the repository's own file, then the organisation's `.github` repository. */
export const POLICY_PATH = `${REPO}/contents/.github%2Fagent-governance.yml`;
export const ORG_POLICY_PATH = '/repos/Codertocat/.github/contents/.github%2Fagent-governance.yml';

export interface ReadsOptions {
  number?: number;
  /** The policy on the default branch (`master` in the examples); null: none anywhere. */
  policy?: string | null;
  files: unknown[];
  /** The PR's commits, for a PR whose author is no agent login. */
  commits?: unknown[];
  times?: number;
}

/** The reads one evaluation makes, answered as GitHub would. */
export function prReads(o: ReadsOptions) {
  const n = o.number ?? 2;
  const times = o.times ?? 1;
  const scope = nock(API);
  if (o.policy) {
    scope
      .get(POLICY_PATH)
      .query({ ref: 'master' })
      .times(times)
      .reply(200, { type: 'file', encoding: 'base64', content: Buffer.from(o.policy).toString('base64') })
      // Read for every repository (what it enforces applies everywhere), unless the repository's
      // own file cannot be used at all.
      .get(ORG_POLICY_PATH)
      .optionally()
      .reply(404, { message: 'Not Found' });
  } else {
    scope
      .get(POLICY_PATH)
      .query({ ref: 'master' })
      .times(times)
      .reply(404, { message: 'Not Found' })
      .get(ORG_POLICY_PATH)
      .times(times)
      .reply(404, { message: 'Not Found' });
  }
  // Commits are read only for a PR whose author is no agent login (a trailer is then the only tie).
  if (o.commits)
    scope.get(`${REPO}/pulls/${n}/commits`).query({ per_page: 100 }).times(times).reply(200, o.commits);
  return scope.get(`${REPO}/pulls/${n}/files`).query({ per_page: 100 }).times(times).reply(200, o.files);
}

/** Records every check-run request body; `create` answers with `id`, then `updates` PATCHes are expected. */
export function checkRuns(id: number, updates = 0) {
  const bodies: any[] = [];
  const scope = nock(API)
    .post(`${REPO}/check-runs`, (b) => bodies.push({ method: 'POST', ...b }) > 0)
    .reply(201, { id });
  if (updates > 0)
    scope
      .patch(`${REPO}/check-runs/${id}`, (b) => bodies.push({ method: 'PATCH', ...b }) > 0)
      .times(updates)
      .reply(200, { id });
  return { scope, bodies };
}
