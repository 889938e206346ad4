import { Probot, ProbotOctokit } from 'probot';
import { httpFetch } from '../platform/http-fetch.js';
import type { Logger } from '../platform/logger.js';
import type { RateLimits } from './rate-limits.js';
import type { GithubConfig } from './read-github-config.js';

/** The App's Probot, its Octokit reporting GitHub's rate limit to `rateLimits` and never retrying. */
export function createProbot(config: GithubConfig, logger: Logger, rateLimits: RateLimits): Probot {
  return new Probot({
    appId: config.appId,
    privateKey: config.privateKey,
    secret: config.webhookSecret,
    baseUrl: config.baseUrl,
    log: probotLogger(logger),
    // Kept-alive node:http instead of Node's fetch: a fraction of the CPU per call.
    request: { fetch: httpFetch },
    // Our outbox and inbox retry with backoff behind one breaker; Octokit retrying (and queueing
    // writes) on its own underneath would multiply attempts and hide outages from the breaker.
    Octokit: ProbotOctokit.plugin(rateLimits.plugin()).defaults((options: Record<string, unknown>) => ({
      ...options,
      retry: { enabled: false },
      throttle: { ...(options.throttle as object), enabled: false },
    })),
  });
}

/**
 * Probot's logger, without Probot's own report of each failed event (an error with a stack trace,
 * on every attempt): the inbox worker reports each failure once, at the level it deserves (GitHub
 * down or rate limited is a warning saying when the delivery is processed again).
 */
function probotLogger(logger: Logger): Logger {
  const log = logger.child({ component: 'probot' });
  const child = log.child.bind(log) as unknown as (
    bindings: Record<string, unknown>,
    options?: object,
  ) => Logger;
  const quietEvents = (bindings: Record<string, unknown>, options?: object) =>
    child(bindings, bindings.name === 'event' ? { ...options, level: 'silent' } : options);
  return Object.assign(log, { child: quietEvents as unknown as Logger['child'] });
}
