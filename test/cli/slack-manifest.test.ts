import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { slackManifest } from '../../src/slack/slack-manifest.js';
import { agov } from '../helpers/agov.js';

const MANIFEST = JSON.parse(readFileSync(resolve(import.meta.dirname, '../../manifest.json'), 'utf8'));

/** Every string in a JSON value, with where it is. */
function strings(value: unknown, at = ''): [string, string][] {
  if (typeof value === 'string') return [[at, value]];
  if (value && typeof value === 'object')
    return Object.entries(value).flatMap(([k, v]) => strings(v, `${at}/${k}`));
  return [];
}

describe('agov slack manifest --url', () => {
  it("prints manifest.json with every request URL on the given host, ready for Slack's create-from-manifest", () => {
    const r = agov(['slack', 'manifest', '--url', 'https://gov.example.org']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    // Stable output: two-space JSON and one final newline, nothing else on stdout.
    const printed = JSON.parse(r.stdout);
    expect(r.stdout).toBe(`${JSON.stringify(printed, null, 2)}\n`);
    const urls = strings(printed).filter(([, v]) => /^https?:\/\//.test(v));
    expect(urls.length).toBeGreaterThanOrEqual(3);
    for (const [, url] of urls) expect(url).toBe('https://gov.example.org/slack/events');
    expect(printed.features.slash_commands[0].url).toBe('https://gov.example.org/slack/events');
    expect(printed.settings.interactivity.request_url).toBe('https://gov.example.org/slack/events');
    expect(printed.settings.event_subscriptions.request_url).toBe('https://gov.example.org/slack/events');
    // Everything else is the repository's manifest as it is.
    const placeholder = JSON.parse(r.stdout.replaceAll('https://gov.example.org', 'https://example.com'));
    expect(placeholder).toEqual(MANIFEST);
  });

  it('keeps a path prefix and drops a trailing slash', () => {
    const r = agov(['slack', 'manifest', '--url', 'https://proxy.example.org:8443/governance/']);
    expect(r.status).toBe(0);
    const printed = JSON.parse(r.stdout);
    expect(printed.settings.interactivity.request_url).toBe(
      'https://proxy.example.org:8443/governance/slack/events',
    );
  });

  it('moves every URL on the placeholder host, redirect URLs included, and no other', () => {
    const manifest = {
      ...MANIFEST,
      oauth_config: { ...MANIFEST.oauth_config, redirect_urls: ['https://example.com/slack/oauth_redirect'] },
      display_information: {
        ...MANIFEST.display_information,
        long_description: 'see https://example.org/docs',
      },
    };
    const filled = slackManifest(manifest, 'https://gov.example.org') as typeof manifest;
    expect(filled.oauth_config.redirect_urls).toEqual(['https://gov.example.org/slack/oauth_redirect']);
    expect(filled.display_information.long_description).toBe('see https://example.org/docs');
    expect(manifest.oauth_config.redirect_urls).toEqual(['https://example.com/slack/oauth_redirect']);
  });

  it.each([
    ['http://gov.example.org', 'Slack sends requests only to https:// URLs'],
    ['gov.example.org', 'is not a URL'],
    ['https://gov.example.org/?x=1', 'without a query or a fragment'],
    ['https://user:pw@gov.example.org', 'without a user name or password'],
  ])('refuses --url %s with one line and prints nothing', (url, message) => {
    const r = agov(['slack', 'manifest', '--url', url]);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(message);
    expect(lines[0]).toMatch(/^agov: /);
  });

  it('--url is required', () => {
    const r = agov(['slack', 'manifest']);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/--url/);
  });
});
