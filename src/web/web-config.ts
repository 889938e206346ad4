import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Env } from '../config/read-env.js';
import { UserError } from '../platform/errors.js';

export interface WebConfig {
  clientId: string;
  clientSecret: string;
  /** The key that signs session cookies. */
  sessionSecret: Buffer;
  /** Where people reach the service (`https://governance.example.com`); null: from the Host header. */
  publicUrl: string | null;
  /** github.com's sign-in pages, or GitHub Enterprise Server's (GHE_HOST). */
  githubWebUrl: string;
  /** The REST API root the person's token is used against. */
  githubApiUrl: string;
  /** GitHub logins (lower case) who may see the fleet, beside the organisation config's people. */
  admins: string[];
}

/**
 * The web pages' configuration; null when sign-in is not configured (then no page is served at
 * all: there is nothing without sign-in). Half a configuration is an error, not a silent "off".
 */
export function readWebConfig(env: Env): WebConfig | null {
  if (!env.GITHUB_CLIENT_ID && !env.GITHUB_CLIENT_SECRET) return null;
  if (!env.GITHUB_CLIENT_ID || !env.GITHUB_CLIENT_SECRET)
    throw new UserError(
      'web_config_incomplete',
      `sign-in is half configured: set ${env.GITHUB_CLIENT_ID ? 'GITHUB_CLIENT_SECRET' : 'GITHUB_CLIENT_ID'} as well (both are on the GitHub App's settings page)`,
    );
  let publicUrl: string | null = null;
  if (env.PUBLIC_URL) {
    let parsed: URL;
    try {
      parsed = new URL(env.PUBLIC_URL);
    } catch {
      throw new UserError('public_url_invalid', `PUBLIC_URL "${env.PUBLIC_URL}" is not a URL`);
    }
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')
      throw new UserError(
        'public_url_invalid',
        'PUBLIC_URL must start with https:// (or http:// for a test)',
      );
    publicUrl = parsed.origin + parsed.pathname.replace(/\/+$/, '');
  }
  const protocol = env.GHE_PROTOCOL ?? 'https';
  return {
    clientId: env.GITHUB_CLIENT_ID,
    clientSecret: env.GITHUB_CLIENT_SECRET,
    sessionSecret: sessionSecret(env),
    publicUrl,
    githubWebUrl: env.GHE_HOST ? `${protocol}://${env.GHE_HOST}` : 'https://github.com',
    githubApiUrl: env.GHE_HOST ? `${protocol}://${env.GHE_HOST}/api/v3` : 'https://api.github.com',
    admins: (env.WEB_ADMINS ?? '')
      .split(',')
      .map((l) => l.trim().toLowerCase())
      .filter(Boolean),
  };
}

/**
 * WEB_SESSION_SECRET, or a key generated once into the data directory (mode 0600) so sessions
 * survive a restart. Several replicas must share one: set WEB_SESSION_SECRET.
 */
function sessionSecret(env: Env): Buffer {
  if (env.WEB_SESSION_SECRET) {
    if (env.WEB_SESSION_SECRET.length < 32)
      throw new UserError(
        'web_session_secret_short',
        'WEB_SESSION_SECRET must be at least 32 characters (try `openssl rand -hex 32`)',
      );
    return Buffer.from(env.WEB_SESSION_SECRET, 'utf8');
  }
  const dir = env.LEDGER_PATH === ':memory:' ? null : dirname(env.LEDGER_PATH);
  if (!dir) return randomBytes(32);
  const path = join(dir, 'web-session-secret');
  if (!existsSync(path)) {
    mkdirSync(dir, { recursive: true });
    // `wx`: two processes starting at once do not overwrite each other's key.
    try {
      writeFileSync(path, randomBytes(32).toString('hex'), { mode: 0o600, flag: 'wx' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    chmodSync(path, 0o600);
  }
  return Buffer.from(readFileSync(path, 'utf8').trim(), 'utf8');
}
