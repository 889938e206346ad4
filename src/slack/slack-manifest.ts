import { UserError } from '../platform/errors.js';

/** The host `manifest.json` is written with; every URL on it is one of ours. */
export const MANIFEST_PLACEHOLDER = 'https://example.com';

/**
 * Where Slack will reach this service, from `--url`: https only (Slack sends requests to nothing
 * else), an optional path prefix for a reverse proxy, no trailing slash.
 */
export function slackBaseUrl(input: string): string {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new UserError('slack_url_invalid', `--url "${input}" is not a URL (give https://HOST)`);
  }
  if (url.protocol !== 'https:')
    throw new UserError('slack_url_invalid', `--url "${input}": Slack sends requests only to https:// URLs`);
  if (url.username || url.password)
    throw new UserError('slack_url_invalid', `--url "${input}": give it without a user name or password`);
  if (url.search || url.hash || input.includes('?') || input.includes('#'))
    throw new UserError('slack_url_invalid', `--url "${input}": give it without a query or a fragment`);
  return url.origin + url.pathname.replace(/\/+$/, '');
}

function fill(value: unknown, base: string): unknown {
  if (typeof value === 'string')
    return value === MANIFEST_PLACEHOLDER || value.startsWith(`${MANIFEST_PLACEHOLDER}/`)
      ? base + value.slice(MANIFEST_PLACEHOLDER.length)
      : value;
  if (Array.isArray(value)) return value.map((v) => fill(v, base));
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v, base)]));
  return value;
}

/**
 * The Slack app manifest with every URL on the placeholder host (request URLs, redirect URLs)
 * moved to `base`; nothing else changes. A new copy: `manifest` is left as it is.
 */
export function slackManifest(manifest: unknown, base: string): unknown {
  return fill(manifest, base);
}
