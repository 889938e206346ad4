import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { RegisteredApp } from '../github/manifest-conversion.js';
import { html, type SafeHtml, safeHref } from '../web/html.js';

// Written as text into <style>, where the browser decodes nothing: keep it free of & < > " ' `.
const STYLE =
  'body{font:16px/1.5 system-ui,sans-serif;max-width:42rem;margin:3rem auto;padding:0 1rem;color:#1d2b3a}code{background:#eef1f4;padding:0 .25rem}button{font:inherit;padding:.4rem 1rem}form{margin:1rem 0}';
const STYLE_HASH = createHash('sha256').update(STYLE).digest('base64');

/**
 * The setup pages' policy: no script at all, our one inline style, and forms that may go only to
 * this service and to GitHub's "new App" page (the web pages' policy allows `'self'` only, which
 * would make the browser drop the manifest POST without a word).
 */
function securityHeaders(githubWebUrl: string): Record<string, string> {
  return {
    'content-security-policy': `default-src 'none'; style-src 'sha256-${STYLE_HASH}'; form-action ${githubWebUrl} 'self'; base-uri 'none'; frame-ancestors 'none'`,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-store',
  };
}

export function sendSetupPage(
  res: ServerResponse,
  githubWebUrl: string,
  status: number,
  title: string,
  body: SafeHtml,
): void {
  const text = html`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Agent Governance</title><style>${STYLE}</style></head>
<body><main><h1>${title}</h1>
${body}
</main></body></html>
`.text;
  res.writeHead(status, {
    ...securityHeaders(githubWebUrl),
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

export interface RegisterView {
  /** GitHub's "new App" URL, with the state. */
  action: string;
  manifest: Record<string, unknown>;
  org: string | null;
  envPath: string;
  /** True when the public URL was guessed from the request (PUBLIC_URL unset). */
  guessed: boolean;
}

export function registerBody(v: RegisterView): SafeHtml {
  const hooks = (v.manifest.hook_attributes as { url: string }).url;
  return html`<p>No GitHub App is configured (<code>APP_ID</code> is not set). Register one from
<code>app.yml</code>: GitHub shows the permissions and events it asks for, you may change its name,
and once you create it GitHub sends you back here. Its id, private key, webhook secret and OAuth
client are then written to <code>${v.envPath}</code> (mode 0600).</p>
<p>GitHub will send webhooks to <code>${hooks}</code>.${
    v.guessed
      ? html` This address was taken from your browser's request: if GitHub cannot reach it, set
<code>PUBLIC_URL</code> to where it can, restart, and reload this page.`
      : null
  }</p>
<form action="${v.action}" method="post"><input type="hidden" name="manifest" value="${JSON.stringify(v.manifest)}">
<button type="submit">Register the GitHub App${v.org ? html` for ${v.org}` : null}</button></form>
<form action="/" method="get"><label>Or register it for an organisation: <input name="org" value="${v.org ?? ''}" placeholder="organisation"></label>
<button type="submit">Use this organisation</button></form>`;
}

export function registeredBody(app: RegisteredApp, envPath: string): SafeHtml {
  return html`<p>GitHub created the App <a href="${safeHref(app.html_url)}">${app.slug}</a> (id ${app.id}).
Its id, private key, webhook secret and OAuth client id and secret are in <code>${envPath}</code>
(mode 0600).</p>
<p>Now restart the service (<code>npm start</code> or <code>agov serve</code> reads <code>.env</code>
at start), then install the App on the repositories its agents work in:
<a href="${safeHref(`${app.html_url}/installations/new`)}">${app.html_url}/installations/new</a>.</p>`;
}

export function alreadyRegisteredBody(app: RegisteredApp): SafeHtml {
  return html`<p>A GitHub App is already registered here (<a href="${safeHref(app.html_url)}">${app.slug}</a>,
id ${app.id}): restart the service to use it. Nothing was changed.</p>`;
}

export function problemBody(message: string, advice?: string): SafeHtml {
  return html`<p>${message}</p>${advice ? html`<p>${advice}</p>` : null}<p>Nothing was written. <a href="/">Start again</a>.</p>`;
}
