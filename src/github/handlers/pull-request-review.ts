import type { Probot, ProbotOctokit } from 'probot';
import { diffHash } from '../../core/policy/evaluate.js';
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
    await recordReview(
      deps,
      context.octokit,
      target,
      p.review.user.login,
      state === 'approved' ? 'approve' : 'reject',
    );
    await deps.gate.evaluate(context.octokit, target, 'pull_request_review.submitted', deps.seq(context.id));
  });
}

/** The review as an approval receipt, tied to the diff and the policy it was given under. */
async function recordReview(
  { governance, policies }: HandlerDeps,
  octokit: ProbotOctokit,
  target: PullRequestTarget,
  approver: string,
  verdict: 'approve' | 'reject',
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
      },
    },
  ]);
}
