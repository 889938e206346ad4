import { parse as parseYaml } from 'yaml';
import { WEBHOOK_PATH } from './github-integration.js';

/** Where GitHub sends the person back with the code to exchange (the manifest's `redirect_url`). */
export const SETUP_CALLBACK_PATH = '/setup/callback';

/** GitHub's rule for an organisation login: letters, digits and single hyphens inside, at most 39. */
const ORG_LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/;

export function isOrgLogin(value: string): boolean {
  return ORG_LOGIN.test(value);
}

/**
 * The manifest to POST to GitHub: `app.yml` as written (name, permissions, events), with the URLs
 * of this deployment: webhooks, the redirect back to the setup page, and the web pages' sign-in
 * callback (the client id and secret the conversion returns are what sign-in uses).
 */
export function buildAppManifest(appYml: string, publicUrl: string): Record<string, unknown> {
  const manifest = parseYaml(appYml) as Record<string, unknown>;
  const hook = (manifest.hook_attributes ?? {}) as Record<string, unknown>;
  return {
    ...manifest,
    hook_attributes: { ...hook, url: `${publicUrl}${WEBHOOK_PATH}` },
    redirect_url: `${publicUrl}${SETUP_CALLBACK_PATH}`,
    callback_urls: [`${publicUrl}/auth/callback`],
  };
}

/** GitHub's "register a new App" form for a manifest, for the person's account or an organisation. */
export function newAppUrl(githubWebUrl: string, org: string | null, state: string): string {
  const owner = org ? `/organizations/${org}` : '';
  return `${githubWebUrl}${owner}/settings/apps/new?state=${encodeURIComponent(state)}`;
}
