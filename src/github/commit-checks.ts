import {
  type PullRequestVerdict,
  renderStricterAtCommit,
  stricterAtCommit,
  strictestAtCommit,
} from '../core/policy/commit-check.js';
import type { CheckRunRender } from '../core/policy/render-check-run.js';
import type { LedgerReader } from '../ledger/ledger-reader.js';
import type { OutboxMessageInput } from '../ledger/outbox.js';
import { decisionsAsync } from '../ledger/queries/decisions.js';
import { checkRunMessage } from './check-run-message.js';
import type { PullRequestTarget } from './pull-request-target.js';

/**
 * The check-run writes a decision calls for, read inside its write (`reader` is the decision's
 * view: the ledger as its entries will extend it): its commit's check, and — when the PR moved
 * here from another head commit that other PRs still have — that commit's check again, now
 * without this PR (it may have been the one holding it back). Only reads: it may run again.
 */
export async function commitChecks(
  reader: LedgerReader,
  target: PullRequestTarget,
  own: PullRequestVerdict,
  render: CheckRunRender,
  step: string,
): Promise<OutboxMessageInput[]> {
  const check = await atCommit(reader, target, own, render);
  const messages = [checkRunMessage(target, target.pr.headSha, check, step)];
  const repository = `${target.owner}/${target.repo}`;
  const before = (await decisionsAsync.latestDecision(reader, repository, target.pr.number))?.headSha;
  if (!before || before === target.pr.headSha) return messages;
  const left = await decisionsAsync.otherDecisionsAtHead(reader, repository, before, target.pr.number);
  const strictest = strictestAtCommit(left);
  if (!strictest) return messages;
  const again = renderStricterAtCommit(strictest, strictest, left);
  const moved = `${step}-left-by-${target.pr.number}`;
  messages.push(checkRunMessage({ ...target, pr: { number: strictest.number } }, before, again, moved));
  return messages;
}

/**
 * What the commit's check shows for this PR's decision, read inside its write: its own render,
 * or — when another PR with the same head commit has a stricter newest decision — that one's
 * state, naming both. A check belongs to the commit, so a looser PR of it never loosens it.
 */
async function atCommit(
  reader: LedgerReader,
  target: PullRequestTarget,
  own: PullRequestVerdict,
  render: CheckRunRender,
): Promise<CheckRunRender> {
  const others = await decisionsAsync.otherDecisionsAtHead(
    reader,
    `${target.owner}/${target.repo}`,
    target.pr.headSha,
    target.pr.number,
  );
  const stricter = stricterAtCommit(own, others);
  return stricter ? renderStricterAtCommit(own, stricter, others) : render;
}
