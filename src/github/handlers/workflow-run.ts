import type { Probot } from 'probot';
import { WEBHOOK_SCHEMAS } from '../webhook-schemas.js';
import { ciFinished } from './ci-finished.js';
import type { HandlerDeps } from './handler-deps.js';

/** `workflow_run.completed`: an Actions workflow's result, read as CI's result like a check suite. */
export function registerWorkflowRunHandler(app: Probot, deps: HandlerDeps): void {
  app.on('workflow_run.completed', async (context) => {
    const p = WEBHOOK_SCHEMAS.workflow_run.parse(context.payload);
    await ciFinished(deps, context.octokit, {
      installationId: p.installation.id,
      repository: p.repository,
      run: p.workflow_run,
      what: `workflow "${p.workflow_run.name ?? 'unnamed'}"`,
      trigger: 'workflow_run.completed',
      causeSeq: deps.seq(context.id),
    });
  });
}
