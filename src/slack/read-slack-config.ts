import type { Env } from '../config/read-env.js';
import { UserError } from '../platform/errors.js';
import type { SlackConfig } from './slack-integration.js';

/**
 * Bolt's variables; null (Slack off) when none is set. Over HTTP: SLACK_SIGNING_SECRET and
 * SLACK_BOT_TOKEN. In Socket Mode (development): SLACK_APP_TOKEN and SLACK_BOT_TOKEN.
 */
export function readSlackConfig(env: Env): SlackConfig | null {
  if (!env.SLACK_SIGNING_SECRET && !env.SLACK_BOT_TOKEN && !env.SLACK_APP_TOKEN) return null;
  if (!env.SLACK_BOT_TOKEN || (!env.SLACK_SIGNING_SECRET && !env.SLACK_APP_TOKEN)) {
    throw new UserError(
      'slack_config_incomplete',
      `Slack is half configured: set ${env.SLACK_BOT_TOKEN ? 'SLACK_SIGNING_SECRET (or SLACK_APP_TOKEN for Socket Mode)' : 'SLACK_BOT_TOKEN'} as well`,
    );
  }
  if (!/^xox[bp]-/.test(env.SLACK_BOT_TOKEN))
    throw new UserError('slack_token_invalid', 'SLACK_BOT_TOKEN must be a bot token (xoxb-…)');
  if (env.SLACK_APP_TOKEN && !/^xapp-/.test(env.SLACK_APP_TOKEN))
    throw new UserError(
      'slack_token_invalid',
      'SLACK_APP_TOKEN must be an app-level token (xapp-…) with the connections:write scope',
    );
  return {
    signingSecret: env.SLACK_SIGNING_SECRET,
    botToken: env.SLACK_BOT_TOKEN,
    appToken: env.SLACK_APP_TOKEN,
    apiUrl: env.SLACK_API_URL,
  };
}
