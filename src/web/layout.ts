import type { ServerResponse } from 'node:http';
import { html, type SafeHtml } from './html.js';

/**
 * What every page answer carries. No script runs but our own files (there are none yet), nothing
 * is framed, styles come from our stylesheet only, and the browser never guesses a content type.
 */
export const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'same-origin',
  // Pages show what one person may see: no shared cache keeps them.
  'cache-control': 'no-store',
};

export interface Viewer {
  login: string;
  admin: boolean;
}

export function page(title: string, viewer: Viewer | null, body: SafeHtml): SafeHtml {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Agent Governance</title>
<link rel="stylesheet" href="/assets/web.css">
</head>
<body>
<header class="top">
<nav aria-label="Site">
<a href="/">Agent Governance</a>
${viewer?.admin ? html`<a href="/fleet">Fleet</a>` : null}
</nav>
${
  viewer
    ? html`<form method="post" action="/auth/signout" class="who"><span>Signed in as <strong>${viewer.login}</strong></span> <button type="submit">Sign out</button></form>`
    : null
}
</header>
<main id="main">
${body}
</main>
</body>
</html>
`;
}

export function sendPage(
  res: ServerResponse,
  status: number,
  body: SafeHtml,
  extra: Record<string, string | string[]> = {},
): void {
  const text = body.text;
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...extra,
  });
  res.end(text);
}

export function redirect(
  res: ServerResponse,
  location: string,
  extra: Record<string, string | string[]> = {},
): void {
  res.writeHead(302, { ...SECURITY_HEADERS, location, 'content-length': 0, ...extra });
  res.end();
}

/** The one "not found": for a page that does not exist and for one the viewer may not see alike. */
export function sendNotFound(res: ServerResponse, viewer: Viewer | null): void {
  sendPage(
    res,
    404,
    page('Not found', viewer, html`<h1>Not found</h1><p>There is no page here that you can see.</p>`),
  );
}

/** Times as people read them, in UTC, with the exact value kept machine-readable. */
export function time(iso: string | null | undefined): SafeHtml {
  if (!iso) return html`—`;
  return html`<time datetime="${iso}">${iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}</time>`;
}

export function shortSha(sha: string | null | undefined): string {
  return sha ? sha.slice(0, 7) : '—';
}
