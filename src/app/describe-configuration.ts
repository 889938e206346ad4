import type { Env } from '../config/read-env.js';
import { redactUrl } from '../state/redis-state-store.js';

export interface ConfigurationLine {
  part: string;
  configured: boolean;
  detail: string;
}

/** What is and is not configured, and how to configure it: logged at start, shown by `agov serve`. */
export function describeConfiguration(env: Env, configPath: string | null): ConfigurationLine[] {
  const github = Boolean(env.APP_ID && (env.PRIVATE_KEY || env.PRIVATE_KEY_PATH) && env.WEBHOOK_SECRET);
  const slack = Boolean((env.SLACK_SIGNING_SECRET || env.SLACK_APP_TOKEN) && env.SLACK_BOT_TOKEN);
  const vault = Boolean(env.VAULT_ADDR && (env.VAULT_TOKEN || (env.VAULT_ROLE_ID && env.VAULT_SECRET_ID)));
  return [
    { part: 'ledger', configured: true, detail: `SQLite at ${env.LEDGER_PATH} (set LEDGER_PATH to move it)` },
    {
      part: 'state store',
      configured: true,
      detail: env.REDIS_URL
        ? `Redis at ${redactUrl(env.REDIS_URL)}`
        : 'in-process, one node (set REDIS_URL=redis://host:6379 to use Redis, Valkey or DragonflyDB)',
    },
    {
      part: 'organisation config',
      configured: configPath !== null,
      detail: configPath ?? 'none: built-in defaults (write ./agent-governance.yml or set GOVERNANCE_CONFIG)',
    },
    {
      part: 'GitHub App',
      configured: github,
      detail: github
        ? `app ${env.APP_ID}${env.GHE_HOST ? ` on ${env.GHE_HOST}` : ''}`
        : 'not configured (set APP_ID, PRIVATE_KEY or PRIVATE_KEY_PATH, and WEBHOOK_SECRET; GHE_HOST for GitHub Enterprise Server)',
    },
    {
      part: 'Slack',
      configured: slack,
      detail: slack
        ? env.SLACK_APP_TOKEN
          ? 'bot configured, Socket Mode'
          : 'bot configured, HTTP at /slack/events'
        : 'not configured (set SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN; SLACK_APP_TOKEN for Socket Mode)',
    },
    {
      part: 'Vault',
      configured: vault,
      detail: vault
        ? `at ${env.VAULT_ADDR}`
        : 'off (set VAULT_ADDR with VAULT_TOKEN, or VAULT_ROLE_ID and VAULT_SECRET_ID)',
    },
  ];
}
