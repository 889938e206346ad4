import type { Probot } from 'probot';
import { WEBHOOK_SCHEMAS } from '../webhook-schemas.js';
import type { HandlerDeps } from './handler-deps.js';
import { pullRequestFiles } from './pull-request-files.js';

/** `push`: a `git revert` of an agent's merged PR on the default branch. */
export function registerPushHandler(app: Probot, { outcomes }: HandlerDeps): void {
  app.on('push', async (context) => {
    const p = WEBHOOK_SCHEMAS.push.parse(context.payload);
    // A new policy needs nothing here: every replica marks its cached files stale on the push's
    // `delivery.received` entry (GithubIntegration.policies), before the deliveries after it.
    await outcomes.pushed(
      p.repository.full_name,
      p.ref,
      p.repository.default_branch,
      p.commits,
      pullRequestFiles(context.octokit, p.repository),
    );
  });
}
