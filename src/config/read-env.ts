import { z } from 'zod';
import { UserError } from '../platform/errors.js';

const optionalText = z
  .string()
  .optional()
  .transform((v) => (v?.trim() ? v : undefined));

/** Every environment variable the service reads, validated once at start. */
export const envSchema = z.object({
  LEDGER_PATH: z.string().min(1).default('./data/ledger.db'),
  /**
   * A PostgreSQL ledger (postgres://…): the service and the commands use it instead of LEDGER_PATH,
   * and several replicas share it. Checked where it is used.
   */
  DATABASE_URL: optionalText,
  REDIS_URL: optionalText.pipe(
    z
      .string()
      .regex(/^(redis|rediss):\/\//, 'REDIS_URL must start with redis:// or rediss://')
      .optional(),
  ),
  GOVERNANCE_CONFIG: optionalText,
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('0.0.0.0'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LEDGER_SIGNING_KEY: optionalText,
  LEDGER_SIGNING_KEY_PATH: optionalText,
  CHECKPOINT_INTERVAL_MINUTES: z.coerce.number().min(0).default(60),
  HEALTH_PROBE_INTERVAL_MS: z.coerce.number().int().min(100).default(2000),
  PERIODIC_LEASE_MS: z.coerce.number().int().min(200).default(10_000),
  APP_ID: optionalText,
  PRIVATE_KEY: optionalText,
  PRIVATE_KEY_PATH: optionalText,
  WEBHOOK_SECRET: optionalText,
  // Probot builds `${GHE_PROTOCOL}://${GHE_HOST}/api/v3`: a scheme or a path in the host, or a
  // protocol it cannot speak, would fail every call later; refused here, at start, instead.
  GHE_HOST: optionalText.pipe(
    z
      .string()
      .regex(
        /^(\[[0-9a-fA-F:.]+\]|[^\s/:[\]]+)(:\d{1,5})?$/,
        'a host name only (such as ghe.example.com or ghe.example.com:8443), without http:// or a path; set GHE_PROTOCOL=http for plain HTTP',
      )
      .optional(),
  ),
  GHE_PROTOCOL: optionalText.pipe(z.enum(['http', 'https'], { message: 'must be http or https' }).optional()),
  SLACK_SIGNING_SECRET: optionalText,
  SLACK_BOT_TOKEN: optionalText,
  SLACK_APP_TOKEN: optionalText,
  /** The Slack Web API base, for a proxy or a stand-in. */
  SLACK_API_URL: optionalText.pipe(
    z
      .string()
      .regex(/^https?:\/\/[^\s/]+/, 'must be an http:// or https:// URL, such as https://slack.com/api/')
      .optional(),
  ),
  VAULT_ADDR: optionalText,
  VAULT_TOKEN: optionalText,
  VAULT_ROLE_ID: optionalText,
  VAULT_SECRET_ID: optionalText,
  /** The web pages (src/web): the GitHub App's OAuth client, the session key, where people reach us. */
  GITHUB_CLIENT_ID: optionalText,
  GITHUB_CLIENT_SECRET: optionalText,
  WEB_SESSION_SECRET: optionalText,
  PUBLIC_URL: optionalText,
  WEB_ADMINS: optionalText,
});
export type Env = z.infer<typeof envSchema>;

export function readEnv(env: NodeJS.ProcessEnv = process.env): Env {
  const result = envSchema.safeParse(env);
  if (!result.success) {
    // Every bad variable at once, so a deployment is not fixed one restart at a time.
    const problems = result.error.issues.map((i) => `environment variable ${i.path.join('.')}: ${i.message}`);
    throw new UserError('env_invalid', problems.join('; '));
  }
  return result.data;
}
