import type { Probot } from 'probot';
import type { Logger } from '../../platform/logger.js';

/** How often GitHub and Slack are asked, at most: their rate limits are ours to spend on work. */
export const INTEGRATION_PROBE_EVERY_MS = 60_000;

/**
 * GitHub answers `GET /app` authenticated with the App's JWT: the host is reachable, the key is the
 * App's. Not behind the delivery breaker: a probe must not trip, nor be hidden by, the deliveries'.
 * `/readyz` is unauthenticated, so the reason it shows names no host; the log has the error.
 */
export function githubProbe(probot: Probot, logger: Logger): () => Promise<void> {
  return async () => {
    try {
      const octokit = await probot.auth();
      await octokit.request('GET /app');
    } catch (error) {
      logger.warn({ err: error }, 'GitHub readiness probe (GET /app) failed');
      const status = (error as { status?: unknown }).status;
      throw new Error(
        typeof status === 'number' && status > 0
          ? `GET /app answered HTTP ${status}`
          : 'GitHub cannot be reached (see the log)',
      );
    }
  };
}

/** Slack answers `auth.test` with the bot token: reachable, and the token is still good. */
export function slackProbe(
  client: { auth: { test(args: { token: string }): Promise<unknown> } },
  botToken: string,
  logger: Logger,
): () => Promise<void> {
  return async () => {
    try {
      await client.auth.test({ token: botToken });
    } catch (error) {
      logger.warn({ err: error }, 'Slack readiness probe (auth.test) failed');
      const said = (error as { data?: { error?: unknown } }).data?.error;
      throw new Error(
        typeof said === 'string' ? `auth.test said ${said}` : 'Slack cannot be reached (see the log)',
      );
    }
  };
}
