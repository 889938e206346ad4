import type { Probot } from 'probot';
import { CHECK_NAME } from '../../core/policy/evaluate.js';
import { WEBHOOK_SCHEMAS } from '../webhook-schemas.js';
import { evaluatePullRequests } from './evaluate-pull-requests.js';
import type { HandlerDeps } from './handler-deps.js';

/** `check_run`: someone asked for this app's check again (re-run, or a button on the check). */
export function registerCheckRunHandler(app: Probot, deps: HandlerDeps): void {
  app.on(['check_run.rerequested', 'check_run.requested_action'], async (context) => {
    const p = WEBHOOK_SCHEMAS.check_run.parse(context.payload);
    if (p.check_run.name !== CHECK_NAME) return;
    await evaluatePullRequests(
      deps,
      context.octokit,
      deps.seq(context.id),
      p.installation.id,
      p.repository,
      p.check_run.pull_requests.map((r) => r.number),
      `check_run.${p.action}`,
    );
  });
}
