import { renderInProgress } from '../core/policy/render-check-run.js';
import type { Governance } from '../governance/governance.js';
import { decisionsAsync } from '../ledger/queries/decisions.js';
import type { Logger } from '../platform/logger.js';
import { checkRunMessage } from './check-run-message.js';
import type { PullRequestTarget } from './pull-request-target.js';

/**
 * Shows `in_progress` on the PR's commit when its decision takes longer than `afterMs` (a slow
 * GitHub), and only while the commit has no decision: a quick decision is one check-run write, and
 * a completed check is never moved back by a later event. The read and the queueing are one
 * decision on the ledger (a follow-up of the delivery's entry), so no decision's check is queued
 * between the two. Resolves (once `in_progress` is queued when `afterMs` is 0) to what to call once
 * the decision is recorded (or failed).
 */
export async function inProgressIfSlow(
  g: Governance,
  logger: Logger,
  onOutbox: () => void,
  o: { target: PullRequestTarget; summary: string; causeSeq: number; afterMs: number },
): Promise<() => void> {
  const { target } = o;
  const show = async () => {
    let queued = false;
    await g.store.appendDecided(async (view) => {
      const latest = await decisionsAsync.latestDecision(
        view.reader,
        `${target.owner}/${target.repo}`,
        target.pr.number,
      );
      // Decided meanwhile, or before: the check already says more than `in_progress` would.
      queued = latest?.headSha !== target.pr.headSha;
      if (!queued) return [];
      const render = renderInProgress('Evaluating', o.summary);
      const message = checkRunMessage(target, target.pr.headSha, render, `seq-${o.causeSeq}-start`);
      return { entries: [], followUps: [{ seq: o.causeSeq, message }] };
    });
    if (queued) onOutbox();
  };
  if (o.afterMs <= 0) {
    await show();
    return () => undefined;
  }
  const timer = setTimeout(() => {
    show().catch((error: unknown) =>
      logger.warn({ err: error }, 'could not show the check in progress; the decision follows'),
    );
  }, o.afterMs);
  timer.unref();
  return () => clearTimeout(timer);
}
