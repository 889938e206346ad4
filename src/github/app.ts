import type { Probot, ProbotOctokit } from 'probot';
import { CHECK_NAME, diffHash } from '../core/policy/evaluate.js';
import { changesGovernanceFiles } from '../core/policy/evaluation-inputs.js';
import type { FileChange } from '../core/reverts.js';
import type { Governance } from '../governance/governance.js';
import { PullRequestOutcomes } from '../governance/pr-outcomes.js';
import type { Logger } from '../platform/logger.js';
import { DeploymentGate } from './deployment-gate.js';
import { gatherFacts } from './gather-facts.js';
import { loadPolicy } from './load-policy.js';
import { MergeGroupCheck } from './merge-group-check.js';
import type { PullRequestGate } from './pull-request-gate.js';
import { type PullRequestTarget, targetOf } from './pull-request-target.js';
import { pullRequestSchema, WEBHOOK_SCHEMAS } from './webhook-schemas.js';

export interface AppDeps {
  governance: Governance;
  gate: PullRequestGate;
  logger: Logger;
  onOutbox: () => void;
}

/** The ledger sequence of the delivery being processed, set by the inbox worker. */
export interface DeliveryMeta {
  seq: number;
}

type Repo = { name: string; owner: { login: string }; default_branch: string; full_name: string };

/**
 * The Probot application: each handler is event → target → the one gate. Payloads were validated
 * at the edge; here they are parsed again with the same schemas only to get their types.
 */
export function governanceApp(deps: AppDeps, meta: () => DeliveryMeta) {
  const { gate, governance } = deps;
  const outcomes = new PullRequestOutcomes(governance);
  const mergeGroups = new MergeGroupCheck(governance, deps.onOutbox);
  const policies = gate.policies;
  const deployments = new DeploymentGate(governance, deps.onOutbox, policies);

  async function evaluateNumbers(
    octokit: ProbotOctokit,
    installationId: number,
    repository: Repo,
    numbers: number[],
    trigger: string,
  ) {
    for (const number of new Set(numbers)) {
      const { data } = await octokit.rest.pulls.get({
        owner: repository.owner.login,
        repo: repository.name,
        pull_number: number,
      });
      if (data.state !== 'open') continue;
      await gate.evaluate(
        octokit,
        targetOf(installationId, repository, pullRequestSchema.parse(data)),
        trigger,
        meta().seq,
      );
    }
  }

  return (app: Probot) => {
    app.on(
      [
        'pull_request.opened',
        'pull_request.reopened',
        'pull_request.synchronize',
        'pull_request.edited',
        'pull_request.ready_for_review',
      ],
      async (context) => {
        const p = WEBHOOK_SCHEMAS.pull_request.parse(context.payload);
        await gate.evaluate(
          context.octokit,
          targetOf(p.installation.id, p.repository, p.pull_request),
          `pull_request.${p.action}`,
          meta().seq,
        );
      },
    );

    app.on('pull_request.closed', async (context) => {
      const p = WEBHOOK_SCHEMAS.pull_request.parse(context.payload);
      if (!p.pull_request.merged) return;
      const filesOf = pullRequestFiles(context.octokit, p.repository);
      await outcomes.merged(
        p.repository.full_name,
        {
          number: p.pull_request.number,
          headSha: p.pull_request.head.sha,
          mergeCommitSha: p.pull_request.merge_commit_sha,
          body: p.pull_request.body,
        },
        { files: () => filesOf(p.pull_request.number), filesOf },
      );
    });

    app.on('push', async (context) => {
      const p = WEBHOOK_SCHEMAS.push.parse(context.payload);
      // In order with the deliveries that follow it: the next PR is judged by the new policy.
      if (p.ref === `refs/heads/${p.repository.default_branch}` && changesGovernanceFiles(p.commits))
        policies.invalidate(p.repository.full_name);
      await outcomes.pushed(
        p.repository.full_name,
        p.ref,
        p.repository.default_branch,
        p.commits,
        pullRequestFiles(context.octokit, p.repository),
      );
    });

    app.on(['check_run.rerequested', 'check_run.requested_action'], async (context) => {
      const p = WEBHOOK_SCHEMAS.check_run.parse(context.payload);
      if (p.check_run.name !== CHECK_NAME) return;
      await evaluateNumbers(
        context.octokit,
        p.installation.id,
        p.repository,
        p.check_run.pull_requests.map((r) => r.number),
        `check_run.${p.action}`,
      );
    });

    app.on('check_suite.rerequested', async (context) => {
      const p = WEBHOOK_SCHEMAS.check_suite.parse(context.payload);
      await evaluateNumbers(
        context.octokit,
        p.installation.id,
        p.repository,
        p.check_suite.pull_requests.map((r) => r.number),
        'check_suite.rerequested',
      );
    });

    app.on(['check_suite.completed', 'workflow_run.completed'], async (context) => {
      const isSuite = context.name === 'check_suite';
      const p = isSuite
        ? WEBHOOK_SCHEMAS.check_suite.parse(context.payload)
        : WEBHOOK_SCHEMAS.workflow_run.parse(context.payload);
      const run = 'check_suite' in p ? p.check_suite : p.workflow_run;
      const numbers = run.pull_requests.map((r) => r.number);
      const failed = run.conclusion === 'failure' || run.conclusion === 'timed_out';
      if (failed && run.head_branch === p.repository.default_branch) {
        const what = 'workflow_run' in p ? `workflow "${p.workflow_run.name ?? 'unnamed'}"` : 'a check suite';
        await outcomes.defaultBranchFailed(
          p.repository.full_name,
          run.head_sha,
          `broke ${run.head_branch}: ${what} ${run.conclusion} at ${run.head_sha.slice(0, 7)}`,
        );
      }
      if (failed) {
        for (const number of numbers) {
          const decision = governance.latestDecision(p.repository.full_name, number);
          // Only a PR GitHub ties to the agent counts against it: a trailer anyone can write never does.
          if (!decision?.agentId || decision.attribution !== 'authenticated') continue;
          await governance.recordViolation(
            decision.agentId,
            {
              type: 'ci_failure',
              details: `CI ${run.conclusion} on ${p.repository.full_name}#${number} at ${run.head_sha.slice(0, 7)}`,
            },
            `ci:${p.repository.full_name}#${number}@${run.head_sha}`,
            'github',
          );
        }
      }
      // A PR waiting for required checks is evaluated again now that one finished.
      const waiting = numbers.filter(
        (n) => governance.latestDecision(p.repository.full_name, n)?.outcome === 'pending',
      );
      await evaluateNumbers(
        context.octokit,
        p.installation.id,
        p.repository,
        waiting,
        `${context.name}.completed`,
      );
    });

    app.on('pull_request_review.submitted', async (context) => {
      const p = WEBHOOK_SCHEMAS.pull_request_review.parse(context.payload);
      const state = p.review.state.toLowerCase();
      if (state !== 'approved' && state !== 'changes_requested') return;
      const target = targetOf(p.installation.id, p.repository, p.pull_request);
      if (p.review.commit_id !== target.pr.headSha) return; // a review of an older commit approves nothing
      await recordReview(
        context.octokit,
        target,
        p.review.user.login,
        state === 'approved' ? 'approve' : 'reject',
      );
      await gate.evaluate(context.octokit, target, 'pull_request_review.submitted', meta().seq);
    });

    app.on('deployment_protection_rule.requested', async (context) => {
      const p = WEBHOOK_SCHEMAS.deployment_protection_rule.parse(context.payload);
      await deployments.requested(context.octokit, p, meta().seq);
    });

    app.on('merge_group.checks_requested', async (context) => {
      const p = WEBHOOK_SCHEMAS.merge_group.parse(context.payload);
      await mergeGroups.check(
        context.octokit,
        {
          installationId: p.installation.id,
          owner: p.repository.owner.login,
          repo: p.repository.name,
          headSha: p.merge_group.head_sha,
          baseSha: p.merge_group.base_sha,
          headRef: p.merge_group.head_ref,
          baseRef: p.merge_group.base_ref,
        },
        meta().seq,
      );
    });
  };

  async function recordReview(
    octokit: ProbotOctokit,
    target: PullRequestTarget,
    approver: string,
    verdict: 'approve' | 'reject',
  ) {
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
}

/** Reads the files a PR changed (GitHub lists up to 3,000), as the revert check compares them. */
function pullRequestFiles(octokit: ProbotOctokit, repository: Repo) {
  return async (number: number): Promise<FileChange[]> => {
    const files = await octokit.paginate(octokit.rest.pulls.listFiles, {
      owner: repository.owner.login,
      repo: repository.name,
      pull_number: number,
      per_page: 100,
    });
    return files.map((f) => ({
      path: f.filename,
      previousPath: f.previous_filename ?? null,
      status: f.status,
    }));
  };
}
