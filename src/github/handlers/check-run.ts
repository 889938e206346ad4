import type { Probot } from 'probot';
import { CHECK_NAME } from '../../core/policy/evaluate.js';
import { recordCheckRunClick } from '../../governance/check-run-clicks.js';
import { WEBHOOK_SCHEMAS } from '../webhook-schemas.js';
import { evaluatePullRequests } from './evaluate-pull-requests.js';
import type { HandlerDeps } from './handler-deps.js';

/**
 * `check_run`: someone asked for this app's check again (`rerequested`), or clicked one of its
 * buttons (`requested_action`). A click is judged and recorded first, refused ones included; only
 * an accepted Re-evaluate decides the PR again here (a reminder to approvers follows from the
 * ledger entry, through the consequences follower).
 */
export function registerCheckRunHandler(app: Probot, deps: HandlerDeps): void {
  app.on('check_run.rerequested', async (context) => {
    const p = WEBHOOK_SCHEMAS.check_run.parse(context.payload);
    if (p.check_run.name !== CHECK_NAME) return;
    await evaluatePullRequests(
      deps,
      context.octokit,
      deps.seq(context.id),
      p.installation.id,
      p.repository,
      p.check_run.pull_requests.map((r) => r.number),
      'check_run.rerequested',
    );
  });

  app.on('check_run.requested_action', async (context) => {
    const p = WEBHOOK_SCHEMAS.check_run.parse(context.payload);
    const appId = p.check_run.app?.id;
    const verdict = await recordCheckRunClick(
      deps.governance,
      {
        repository: p.repository.full_name,
        numbers: p.check_run.pull_requests.map((r) => r.number),
        headSha: p.check_run.head_sha,
        sender: p.sender!.login,
        identifier: p.requested_action!.identifier,
        ours: p.check_run.name === CHECK_NAME && (deps.appId === null || appId === deps.appId),
        checkRunId: p.check_run.id ?? null,
        deliverySeq: deps.seq(context.id),
      },
      deps.slackUnavailable,
    );
    if (!verdict.accepted || verdict.button !== 'reevaluate' || verdict.number === null) return;
    await evaluatePullRequests(
      deps,
      context.octokit,
      deps.seq(context.id),
      p.installation.id,
      p.repository,
      [verdict.number],
      'check_run.requested_action',
    );
  });
}
