import { generateKeyPairSync } from 'node:crypto';
import type { GithubStandIn } from './github-stand-in.js';
import type { SlackStandIn } from './slack-stand-in.js';

/** The policy the demo and the chaos run put on the stand-in repository's default branch. */
export const STAND_IN_POLICY =
  'rules:\n  protected_paths: { paths: ["docs/legal/**"] }\ngates:\n  protected: { approvals: 1, allow_owner: false }\n';

/**
 * The environment that points the service at the stand-ins: the GitHub App (with a fresh key) on
 * the GitHub stand-in as an Enterprise Server, and the Slack bot on the Slack stand-in.
 */
export function standInEnv(
  github: GithubStandIn,
  slack: SlackStandIn,
  secrets: { webhook: string; slack: string },
): Record<string, string> {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    HOST: '127.0.0.1',
    APP_ID: '1',
    PRIVATE_KEY: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
    WEBHOOK_SECRET: secrets.webhook,
    GHE_HOST: `127.0.0.1:${github.port}`,
    GHE_PROTOCOL: 'http',
    SLACK_SIGNING_SECRET: secrets.slack,
    SLACK_BOT_TOKEN: 'xoxb-stand-in',
    SLACK_API_URL: slack.apiUrl,
    CHECKPOINT_INTERVAL_MINUTES: '0',
  };
}
