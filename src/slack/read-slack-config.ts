import type { Env } from '../config/read-env.js';
import { UserError } from '../errors.js';
import type { SlackConfig } from './slack-integration.js';

/** Bolt's variables; null (Slack off) when neither is set. */
export function readSlackConfig(env: Env): SlackConfig | null {
  if (!env.SLACK_SIGNING_SECRET && !env.SLACK_BOT_TOKEN) return null;
  if (!env.SLACK_SIGNING_SECRET || !env.SLACK_BOT_TOKEN) {
    throw new UserError(
      'slack_config_incomplete',
      `Slack is half configured: set ${env.SLACK_SIGNING_SECRET ? 'SLACK_BOT_TOKEN' : 'SLACK_SIGNING_SECRET'} as well`,
    );
  }
  if (!/^xox[bp]-/.test(env.SLACK_BOT_TOKEN))
    throw new UserError('slack_token_invalid', 'SLACK_BOT_TOKEN must be a bot token (xoxb-…)');
  return {
    signingSecret: env.SLACK_SIGNING_SECRET,
    botToken: env.SLACK_BOT_TOKEN,
    apiUrl: env.SLACK_API_URL,
  };
}
