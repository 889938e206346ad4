import { CHECK_NAME } from '../core/policy/evaluate.js';
import type { CheckRunRender } from '../core/policy/render-check-run.js';
import type { OutboxMessageInput } from '../ledger/outbox.js';
import type { PullRequestTarget } from './pull-request-target.js';

export interface CheckRunPayload {
  installationId: number;
  owner: string;
  repo: string;
  headSha: string;
  name: string;
  render: CheckRunRender;
  /** The PR the decision is about, for the check run's link to its decision page. */
  number?: number;
}

/**
 * An outbox message that creates or updates this app's check run on a commit. Messages for one
 * commit are delivered in order; `step` makes each distinct, so a replayed cause is not sent twice.
 */
export function checkRunMessage(
  target: Pick<PullRequestTarget, 'installationId' | 'owner' | 'repo'> & { pr?: { number: number } },
  headSha: string,
  render: CheckRunRender,
  step: string,
): OutboxMessageInput {
  const payload: CheckRunPayload = {
    installationId: target.installationId,
    owner: target.owner,
    repo: target.repo,
    headSha,
    name: CHECK_NAME,
    render,
    ...(target.pr ? { number: target.pr.number } : {}),
  };
  return {
    target: 'github',
    kind: 'check_run.upsert',
    idempotencyKey: `check:${target.owner}/${target.repo}@${headSha}:${step}`,
    orderingKey: `check:${target.owner}/${target.repo}@${headSha}`,
    payload,
  };
}
