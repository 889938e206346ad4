import type { ProbotOctokit } from 'probot';
import { targetOf } from '../pull-request-target.js';
import { pullRequestSchema } from '../webhook-schemas.js';
import type { HandlerDeps, Repo } from './handler-deps.js';

/**
 * Evaluates each PR a check event names, once: the event lists only numbers, so each PR is read
 * from GitHub first, and one that is no longer open is left alone.
 */
export async function evaluatePullRequests(
  { gate }: Pick<HandlerDeps, 'gate'>,
  octokit: ProbotOctokit,
  /** The ledger entry of the delivery that asked. */
  causeSeq: number,
  installationId: number,
  repository: Repo,
  numbers: number[],
  trigger: string,
): Promise<void> {
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
      causeSeq,
    );
  }
}
