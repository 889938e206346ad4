import type { Probot } from 'probot';
import { WEBHOOK_SCHEMAS } from '../webhook-schemas.js';
import type { HandlerDeps } from './handler-deps.js';

/** `merge_group.checks_requested`: the merge queue wants this app's check on a group's commit. */
export function registerMergeGroupHandler(app: Probot, { mergeGroups, seq }: HandlerDeps): void {
  app.on('merge_group.checks_requested', async (context) => {
    const p = WEBHOOK_SCHEMAS.merge_group.parse(context.payload);
    await mergeGroups.check(
      context.octokit,
      {
        installationId: p.installation.id,
        owner: p.repository.owner.login,
        repo: p.repository.name,
        headSha: p.merge_group.head_sha,
        baseSha: p.merge_group.base_sha,
        headRef: p.merge_group.head_ref,
        baseRef: p.merge_group.base_ref,
      },
      seq(context.id),
    );
  });
}
