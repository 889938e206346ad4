import type { Probot } from 'probot';
import { changesGovernanceFiles } from '../../core/policy/evaluation-inputs.js';
import { WEBHOOK_SCHEMAS } from '../webhook-schemas.js';
import type { HandlerDeps } from './handler-deps.js';
import { pullRequestFiles } from './pull-request-files.js';

/** `push`: a new policy on the default branch, or a `git revert` of an agent's merged PR. */
export function registerPushHandler(app: Probot, { policies, outcomes }: HandlerDeps): void {
  app.on('push', async (context) => {
    const p = WEBHOOK_SCHEMAS.push.parse(context.payload);
    // In order with the deliveries that follow it: the next PR is judged by the new policy.
    if (p.ref === `refs/heads/${p.repository.default_branch}` && changesGovernanceFiles(p.commits))
      policies.invalidate(p.repository.full_name);
    await outcomes.pushed(
      p.repository.full_name,
      p.ref,
      p.repository.default_branch,
      p.commits,
      pullRequestFiles(context.octokit, p.repository),
    );
  });
}
