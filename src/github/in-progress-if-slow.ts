import { renderInProgress } from '../core/policy/render-check-run.js';
import type { Governance } from '../governance/governance.js';
import { latestDecision } from '../ledger/queries/decisions.js';
import type { Logger } from '../platform/logger.js';
import { checkRunMessage } from './check-run-message.js';
import type { PullRequestTarget } from './pull-request-target.js';

/**
 * Shows `in_progress` on the PR's commit when its decision takes longer than `afterMs` (a slow
 * GitHub), and only while the commit has no decision: a quick decision is one check-run write, and
 * a completed check is never moved back by a later event. Returns what to call once the decision
 * is recorded (or failed).
 */
export function inProgressIfSlow(
  g: Governance,
  logger: Logger,
  onOutbox: () => void,
  o: { target: PullRequestTarget; summary: string; causeSeq: number; afterMs: number },
): () => void {
  const { target } = o;
  const show = () => {
    // Decided meanwhile, or before: the check already says more than `in_progress` would.
    if (
      latestDecision(g.ledger, `${target.owner}/${target.repo}`, target.pr.number)?.headSha ===
      target.pr.headSha
    )
      return;
    const render = renderInProgress('Evaluating', o.summary);
    g.ledger.outbox.enqueue(
      o.causeSeq,
      checkRunMessage(target, target.pr.headSha, render, `seq-${o.causeSeq}-start`),
    );
    onOutbox();
  };
  if (o.afterMs <= 0) {
    show();
    return () => undefined;
  }
  const timer = setTimeout(() => {
    try {
      show();
    } catch (error) {
      logger.warn({ err: error }, 'could not show the check in progress; the decision follows');
    }
  }, o.afterMs);
  timer.unref();
  return () => clearTimeout(timer);
}
