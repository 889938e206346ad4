import type { Probot } from 'probot';
import { targetOf } from '../pull-request-target.js';
import { WEBHOOK_SCHEMAS } from '../webhook-schemas.js';
import { EVALUATED_ACTIONS } from '../work-groups.js';
import type { HandlerDeps } from './handler-deps.js';
import { pullRequestFiles } from './pull-request-files.js';

/**
 * `pull_request`: a PR opened, changed or made ready is judged again; a merged one is recorded
 * as an outcome (a revert PR counts against the PR it undoes).
 */
export function registerPullRequestHandlers(app: Probot, { gate, outcomes, seq }: HandlerDeps): void {
  app.on(
    EVALUATED_ACTIONS.map((a) => `pull_request.${a}` as const),
    async (context) => {
      const p = WEBHOOK_SCHEMAS.pull_request.parse(context.payload);
      const target = targetOf(p.installation.id, p.repository, p.pull_request);
      if (p.action === 'synchronize' && p.before) target.pr.movedFrom = p.before;
      await gate.evaluate(context.octokit, target, `pull_request.${p.action}`, seq(context.id));
    },
  );

  app.on('pull_request.closed', async (context) => {
    const p = WEBHOOK_SCHEMAS.pull_request.parse(context.payload);
    if (!p.pull_request.merged) return;
    const filesOf = pullRequestFiles(context.octokit, p.repository);
    await outcomes.merged(
      p.repository.full_name,
      {
        number: p.pull_request.number,
        headSha: p.pull_request.head.sha,
        mergeCommitSha: p.pull_request.merge_commit_sha,
        body: p.pull_request.body,
      },
      { files: () => filesOf(p.pull_request.number), filesOf },
    );
  });
}
