import { readFileSync } from 'node:fs';
import type { Env } from '../config/read-env.js';
import { UserError } from '../platform/errors.js';

export interface GithubConfig {
  appId: string;
  privateKey: string;
  webhookSecret: string;
  /** REST API root: https://api.github.com, or https://HOST/api/v3 for GitHub Enterprise Server. */
  baseUrl: string;
  /** Where people reach this service (PUBLIC_URL): each check run links to its decision page there. */
  publicUrl?: string | null;
}

/** Probot's own variables; null when the GitHub App is not configured. */
export function readGithubConfig(env: Env): GithubConfig | null {
  if (!env.APP_ID && !env.WEBHOOK_SECRET && !env.PRIVATE_KEY && !env.PRIVATE_KEY_PATH) return null;
  const missing = [
    !env.APP_ID && 'APP_ID',
    !env.PRIVATE_KEY && !env.PRIVATE_KEY_PATH && 'PRIVATE_KEY or PRIVATE_KEY_PATH',
    !env.WEBHOOK_SECRET && 'WEBHOOK_SECRET',
  ].filter(Boolean);
  if (missing.length) {
    throw new UserError(
      'github_config_incomplete',
      `the GitHub App is half configured: set ${missing.join(', ')} as well`,
    );
  }
  let privateKey = env.PRIVATE_KEY?.replaceAll('\\n', '\n');
  if (!privateKey) {
    try {
      privateKey = readFileSync(env.PRIVATE_KEY_PATH!, 'utf8');
    } catch (error) {
      throw new UserError(
        'github_key_unreadable',
        `cannot read PRIVATE_KEY_PATH ${env.PRIVATE_KEY_PATH}: ${(error as NodeJS.ErrnoException).code}`,
      );
    }
  }
  if (!/-----BEGIN (RSA )?PRIVATE KEY-----/.test(privateKey)) {
    throw new UserError(
      'github_key_invalid',
      'PRIVATE_KEY is not a PEM private key (download it from the GitHub App settings)',
    );
  }
  const baseUrl = env.GHE_HOST
    ? `${env.GHE_PROTOCOL ?? 'https'}://${env.GHE_HOST}/api/v3`
    : 'https://api.github.com';
  const publicUrl = env.PUBLIC_URL?.replace(/\/+$/, '') ?? null;
  return { appId: env.APP_ID!, privateKey, webhookSecret: env.WEBHOOK_SECRET!, baseUrl, publicUrl };
}
