import type { Probot } from 'probot';
import { WEBHOOK_SCHEMAS } from '../webhook-schemas.js';
import { ciFinished } from './ci-finished.js';
import { evaluatePullRequests } from './evaluate-pull-requests.js';
import type { HandlerDeps } from './handler-deps.js';

/** `check_suite`: re-run all checks asks for this app's check again; a completed suite is CI's result. */
export function registerCheckSuiteHandlers(app: Probot, deps: HandlerDeps): void {
  app.on('check_suite.rerequested', async (context) => {
    const p = WEBHOOK_SCHEMAS.check_suite.parse(context.payload);
    await evaluatePullRequests(
      deps,
      context.octokit,
      deps.seq(context.id),
      p.installation.id,
      p.repository,
      p.check_suite.pull_requests.map((r) => r.number),
      'check_suite.rerequested',
    );
  });

  app.on('check_suite.completed', async (context) => {
    const p = WEBHOOK_SCHEMAS.check_suite.parse(context.payload);
    await ciFinished(deps, context.octokit, {
      installationId: p.installation.id,
      repository: p.repository,
      run: p.check_suite,
      what: 'a check suite',
      trigger: 'check_suite.completed',
      causeSeq: deps.seq(context.id),
    });
  });
}
