import type { CircuitBreakerPolicy } from 'cockatiel';
import type { Probot } from 'probot';
import type { Governance } from '../governance/governance.js';
import type { Logger } from '../platform/logger.js';
import type { PullRequestGate } from './pull-request-gate.js';
import { targetOf } from './pull-request-target.js';
import { pullRequestSchema } from './webhook-schemas.js';

/**
 * Webhooks get lost (GitHub outages, this service down). Lists the open PRs of every installation
 * and evaluates again any whose head commit has no decision recorded: its check is missing or stale.
 * Returns how many it evaluated.
 */
export async function reconcileOpenPullRequests(
  probot: Probot,
  governance: Governance,
  gate: PullRequestGate,
  breaker: CircuitBreakerPolicy,
  logger: Logger,
): Promise<number> {
  return breaker.execute(async () => {
    let evaluated = 0;
    const appOctokit = await probot.auth();
    const installations = await appOctokit.paginate(appOctokit.rest.apps.listInstallations, {
      per_page: 100,
    });
    for (const installation of installations) {
      const octokit = await probot.auth(installation.id);
      const repos = await octokit.paginate(octokit.rest.apps.listReposAccessibleToInstallation, {
        per_page: 100,
      });
      for (const repo of repos) {
        const pulls = await octokit.paginate(octokit.rest.pulls.list, {
          owner: repo.owner.login,
          repo: repo.name,
          state: 'open',
          per_page: 100,
        });
        for (const pull of pulls) {
          const latest = governance.latestDecision(repo.full_name, pull.number);
          // Current and final: nothing to do. Waiting for CI or for people: evaluate again (an
          // approval may have come in while GitHub could not be told).
          if (
            latest &&
            latest.headSha === pull.head.sha &&
            latest.outcome !== 'pending' &&
            latest.outcome !== 'require_approval'
          )
            continue;
          await gate.evaluate(
            octokit,
            targetOf(installation.id, repo, pullRequestSchema.parse(pull)),
            'reconcile',
            null,
          );
          evaluated++;
        }
      }
    }
    if (evaluated)
      logger.info({ evaluated }, 'reconciliation evaluated PRs whose check was missing or stale');
    return evaluated;
  });
}
