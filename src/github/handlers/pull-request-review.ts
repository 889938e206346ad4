import type { Probot, ProbotOctokit } from 'probot';
import { diffHash } from '../../core/policy/evaluate.js';
import { approvalsAsync } from '../../ledger/queries/approvals.js';
import { gatherFacts } from '../gather-facts.js';
import { loadPolicy } from '../load-policy.js';
import { type PullRequestTarget, targetOf } from '../pull-request-target.js';
import { WEBHOOK_SCHEMAS } from '../webhook-schemas.js';
import type { HandlerDeps } from './handler-deps.js';

/** `pull_request_review.submitted`: an approval or a change request on the PR's head counts as a vote. */
export function registerPullRequestReviewHandler(app: Probot, deps: HandlerDeps): void {
  app.on('pull_request_review.submitted', async (context) => {
    const p = WEBHOOK_SCHEMAS.pull_request_review.parse(context.payload);
    const state = p.review.state.toLowerCase();
    if (state !== 'approved' && state !== 'changes_requested') return;
    const target = targetOf(p.installation.id, p.repository, p.pull_request);
    if (p.review.commit_id !== target.pr.headSha) return; // a review of an older commit approves nothing
    const vote = {
      repository: `${target.owner}/${target.repo}`,
      number: target.pr.number,
      approver: p.review.user.login,
      verdict: state === 'approved' ? ('approve' as const) : ('reject' as const),
      reviewId: p.review.id,
    };
    // The same review sent again (under a new delivery id) is one vote; it is still evaluated, so a
    // delivery retried after its evaluation failed is decided.
    if (
      vote.reviewId === undefined ||
      !(await approvalsAsync.reviewRecorded(
        deps.governance.store.reader,
        vote.repository,
        vote.number,
        vote.approver,
        vote.verdict,
        vote.reviewId,
      ))
    )
      await recordReview(deps, context.octokit, target, vote);
    await deps.gate.evaluate(context.octokit, target, 'pull_request_review.submitted', deps.seq(context.id));
  });
}

/** The review as an approval receipt, tied to the diff and the policy it was given under. */
async function recordReview(
  { governance, policies }: HandlerDeps,
  octokit: ProbotOctokit,
  target: PullRequestTarget,
  { approver, verdict, reviewId }: { approver: string; verdict: 'approve' | 'reject'; reviewId?: number },
): Promise<void> {
  const loaded = await loadPolicy(octokit, target.owner, target.repo, target.defaultBranch, policies);
  if (!loaded.ok) return;
  const facts = await gatherFacts(octokit, target, [], { needChecks: false });
  await governance.record([
    {
      type: 'approval.recorded',
      agentId: null,
      actor: approver,
      payload: {
        repository: `${target.owner}/${target.repo}`,
        number: target.pr.number,
        approver,
        verdict,
        gate: null,
        headSha: target.pr.headSha,
        diffHash: diffHash(facts),
        policyVersion: loaded.policy.version,
        source: 'github_review',
        ...(reviewId === undefined ? {} : { reviewId }),
      },
    },
  ]);
}
