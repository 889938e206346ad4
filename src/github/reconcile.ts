import type { CircuitBreakerPolicy } from 'cockatiel';
import type { Probot, ProbotOctokit } from 'probot';
import type { Governance } from '../governance/governance.js';
import type { Logger } from '../platform/logger.js';
import type { PullRequestGate } from './pull-request-gate.js';
import { type PullRequestTarget, targetOf } from './pull-request-target.js';
import type { RateLimits } from './rate-limits.js';
import { pullRequestSchema } from './webhook-schemas.js';

export interface ReconcileDeps {
  probot: Probot;
  governance: Governance;
  gate: PullRequestGate;
  breaker: CircuitBreakerPolicy;
  rateLimits: RateLimits;
  logger: Logger;
}

/** Outcomes that no later event but a new commit (or a person asking again) changes. */
const FINAL = new Set(['allow', 'deny', 'not_agent', 'config_error']);

/**
 * Webhooks get lost (GitHub outages, this service down). Lists the open PRs of every installation
 * and evaluates again those whose check is missing or stale: no decision at the head commit, a
 * decision waiting for CI, or one waiting for people whose inputs have changed since (a receipt,
 * the agent, the policy). An unchanged PR costs no call and no entry. An installation whose rate
 * limit runs low is left for a later sweep: its budget is for gates. Returns how many it evaluated.
 */
export async function reconcileOpenPullRequests(deps: ReconcileDeps): Promise<number> {
  const { probot, breaker, rateLimits, logger } = deps;
  return breaker.execute(async () => {
    let evaluated = 0;
    const appOctokit = await probot.auth();
    const installations = await appOctokit.paginate(appOctokit.rest.apps.listInstallations, {
      per_page: 100,
    });
    for (const installation of installations) {
      const lowUntil = rateLimits.lowUntil(String(installation.id));
      if (lowUntil) {
        logger.info(
          { installation: installation.id, until: lowUntil.toISOString() },
          'rate limit low: the sweep leaves this installation to gates until the reset',
        );
        continue;
      }
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
          const target = targetOf(installation.id, repo, pullRequestSchema.parse(pull));
          if (!(await stale(deps, octokit, target))) continue;
          await deps.gate.evaluate(octokit, target, 'reconcile', null);
          evaluated++;
        }
      }
    }
    if (evaluated)
      logger.info({ evaluated }, 'reconciliation evaluated PRs whose check was missing or stale');
    return evaluated;
  });
}

/** Whether the PR's check is missing or may no longer say what a new evaluation would. */
async function stale(
  deps: ReconcileDeps,
  octokit: ProbotOctokit,
  target: PullRequestTarget,
): Promise<boolean> {
  const latest = await deps.governance.latestDecision(`${target.owner}/${target.repo}`, target.pr.number);
  if (!latest || latest.headSha !== target.pr.headSha) return true;
  if (FINAL.has(latest.outcome)) return false;
  // Waiting for CI: only GitHub knows whether a check finished meanwhile.
  if (latest.outcome !== 'require_approval') return true;
  return !(await deps.gate.unchanged(octokit, target));
}
