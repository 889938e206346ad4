import type { ProbotOctokit } from 'probot';
import { evaluatePullRequests } from './evaluate-pull-requests.js';
import type { HandlerDeps, Repo } from './handler-deps.js';

/** A check suite or a workflow run that completed, as both events describe it. */
export interface FinishedRun {
  installationId: number;
  repository: Repo;
  run: {
    head_branch?: string | null | undefined;
    head_sha: string;
    conclusion: string | null;
    pull_requests: { number: number }[];
  };
  /** What failed, as a broken default branch names it: `a check suite`, `workflow "build"`. */
  what: string;
  trigger: string;
  /** The ledger entry of the delivery that reported it. */
  causeSeq: number;
}

/**
 * CI finished: a failure on the default branch counts against the PR that broke it, a failure on
 * an agent's PR is a violation, and a PR waiting for required checks is evaluated again.
 */
export async function ciFinished(deps: HandlerDeps, octokit: ProbotOctokit, f: FinishedRun): Promise<void> {
  const { governance, outcomes } = deps;
  const { run, repository } = f;
  const numbers = run.pull_requests.map((r) => r.number);
  const failed = run.conclusion === 'failure' || run.conclusion === 'timed_out';
  if (failed && run.head_branch === repository.default_branch) {
    await outcomes.defaultBranchFailed(
      repository.full_name,
      run.head_sha,
      `broke ${run.head_branch}: ${f.what} ${run.conclusion} at ${run.head_sha.slice(0, 7)}`,
    );
  }
  if (failed) await recordCiFailures(deps, repository.full_name, numbers, run);
  // A PR waiting for required checks is evaluated again now that one finished.
  const waiting: number[] = [];
  for (const n of numbers)
    if ((await governance.latestDecision(repository.full_name, n))?.outcome === 'pending') waiting.push(n);
  await evaluatePullRequests(deps, octokit, f.causeSeq, f.installationId, repository, waiting, f.trigger);
}

async function recordCiFailures(
  { governance }: HandlerDeps,
  repository: string,
  numbers: number[],
  run: FinishedRun['run'],
): Promise<void> {
  for (const number of numbers) {
    const decision = await governance.latestDecision(repository, number);
    // Only a PR GitHub ties to the agent counts against it: a trailer anyone can write never does.
    if (!decision?.agentId || decision.attribution !== 'authenticated') continue;
    await governance.recordViolation(
      decision.agentId,
      {
        type: 'ci_failure',
        details: `CI ${run.conclusion} on ${repository}#${number} at ${run.head_sha.slice(0, 7)}`,
      },
      `ci:${repository}#${number}@${run.head_sha}`,
      'github',
    );
  }
}
