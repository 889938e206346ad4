import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { Env } from '../config/read-env.js';
import { buildAppManifest, isOrgLogin, newAppUrl, SETUP_CALLBACK_PATH } from '../github/app-manifest.js';
import {
  ConversionUnavailable,
  convertManifestCode,
  type RegisteredApp,
} from '../github/manifest-conversion.js';
import { updateEnvFile } from '../platform/env-file.js';
import { isUserError, type UserError } from '../platform/errors.js';
import { type Route, sendJson } from '../platform/http-server.js';
import type { Logger } from '../platform/logger.js';
import { packageFile } from '../platform/package-file.js';
import type { SafeHtml } from '../web/html.js';
import { OneTimeStates } from './one-time-states.js';
import {
  alreadyRegisteredBody,
  problemBody,
  registerBody,
  registeredBody,
  sendSetupPage,
} from './setup-views.js';

export interface SetupPageOptions {
  /** The `.env` file the App's credentials are written to (default: `.env` in the working directory). */
  envPath?: string;
  /** Milliseconds since the epoch, for the states' expiry. */
  now?: () => number;
}

/** Where people and GitHub reach us: PUBLIC_URL, else guessed from the request (as Probot does). */
function publicUrlOf(env: Env, req: IncomingMessage): { url: string; guessed: boolean } | null {
  if (env.PUBLIC_URL) {
    try {
      const u = new URL(env.PUBLIC_URL);
      if (u.protocol !== 'https:' && u.protocol !== 'http:') return null;
      return { url: u.origin + u.pathname.replace(/\/+$/, ''), guessed: false };
    } catch {
      return null;
    }
  }
  const host = /^[A-Za-z0-9.:[\]-]+$/.test(req.headers.host ?? '') ? req.headers.host : 'localhost';
  const https = req.headers['x-forwarded-proto'] === 'https';
  return { url: `${https ? 'https' : 'http'}://${host}`, guessed: true };
}

/** The credentials as `.env` carries them: Probot's variables, and the web pages' OAuth client. */
const envValues = (app: RegisteredApp) => ({
  APP_ID: String(app.id),
  PRIVATE_KEY: app.pem,
  WEBHOOK_SECRET: app.webhook_secret,
  GITHUB_CLIENT_ID: app.client_id,
  GITHUB_CLIENT_SECRET: app.client_secret,
});

/**
 * The setup page, served on `/` while neither a GitHub App nor sign-in is configured (see
 * service.ts). It registers an App from `app.yml` through GitHub's manifest flow: a form POSTs the
 * manifest to GitHub with a `state`; GitHub sends the person back to `/setup/callback` with a
 * code, exchanged once for the App's credentials, which are written to `.env`. A callback whose
 * state this process did not issue, or issued and saw used, is refused before GitHub is asked.
 */
class SetupPage {
  private readonly envPath: string;
  private readonly states: OneTimeStates;
  private readonly githubWebUrl: string;
  private readonly apiUrl: string;
  private readonly appYml = readFileSync(packageFile('app.yml'), 'utf8');
  /** The App registered by this process: no second one until the restart. */
  private registered: RegisteredApp | null = null;

  constructor(
    private readonly env: Env,
    private readonly logger: Logger,
    options: SetupPageOptions,
  ) {
    this.envPath = options.envPath ?? join(process.cwd(), '.env');
    this.states = new OneTimeStates(options.now ?? Date.now);
    this.githubWebUrl = env.GHE_HOST
      ? `${env.GHE_PROTOCOL ?? 'https'}://${env.GHE_HOST}`
      : 'https://github.com';
    this.apiUrl = env.GHE_HOST ? `${this.githubWebUrl}/api/v3` : 'https://api.github.com';
  }

  async handle(req: IncomingMessage, res: ServerResponse) {
    // The path as sent (`//host/x` is a path here, not a URL of another host).
    const url = new URL(`http://localhost${(req.url ?? '/').startsWith('/') ? req.url : '/'}`);
    if (req.method !== 'GET')
      return sendJson(res, 405, { error: 'method_not_allowed', message: `${req.method} ${url.pathname}` });
    if (url.pathname === '/') return this.showForm(req, res, url);
    if (url.pathname === SETUP_CALLBACK_PATH) return this.callback(res, url);
    sendJson(res, 404, { error: 'not_found', message: `no route for GET ${url.pathname}` });
  }

  private send(res: ServerResponse, status: number, title: string, body: SafeHtml): void {
    sendSetupPage(res, this.githubWebUrl, status, title, body);
  }

  private problem(res: ServerResponse, status: number, message: string, advice?: string): void {
    this.send(res, status, 'The GitHub App was not registered', problemBody(message, advice));
  }

  private showForm(req: IncomingMessage, res: ServerResponse, url: URL) {
    if (this.registered)
      return this.send(res, 200, 'GitHub App registered', alreadyRegisteredBody(this.registered));
    const org = url.searchParams.get('org') || null;
    if (org !== null && !isOrgLogin(org))
      return this.problem(res, 400, `"${org.slice(0, 100)}" is not a GitHub organisation name.`);
    const base = publicUrlOf(this.env, req);
    if (!base)
      return this.problem(
        res,
        500,
        `PUBLIC_URL "${this.env.PUBLIC_URL}" is not an http(s) URL: correct it and restart.`,
      );
    const manifest = buildAppManifest(this.appYml, base.url);
    const action = newAppUrl(this.githubWebUrl, org, this.states.issue());
    const view = { action, manifest, org, envPath: this.envPath, guessed: base.guessed };
    this.send(res, 200, 'Register the GitHub App', registerBody(view));
  }

  private async callback(res: ServerResponse, url: URL) {
    if (this.registered)
      return this.send(res, 400, 'GitHub App registered', alreadyRegisteredBody(this.registered));
    const giveBack = this.states.take(url.searchParams.get('state') ?? '');
    if (!giveBack)
      return this.problem(
        res,
        400,
        'This registration was not started from this setup page, was finished already, or is more than an hour old.',
      );
    let app: RegisteredApp;
    try {
      app = await convertManifestCode(this.apiUrl, url.searchParams.get('code') ?? '');
    } catch (error) {
      if (!isUserError(error)) throw error;
      const retryable = error instanceof ConversionUnavailable;
      if (retryable) giveBack();
      return this.refused(res, error, retryable);
    }
    // Two registrations finished at once: the first one's credentials stay.
    if (this.registered)
      return this.send(res, 409, 'GitHub App registered', alreadyRegisteredBody(this.registered));
    this.save(res, app);
  }

  private refused(res: ServerResponse, error: UserError, retryable: boolean): void {
    this.logger.warn({ code: error.code }, `GitHub App registration failed: ${error.message}`);
    const created = error.code === 'manifest_answer_invalid';
    const advice = created
      ? 'The App may have been created on GitHub all the same: delete it from your GitHub Apps settings before starting again.'
      : retryable
        ? 'Reload this page to try the same code again.'
        : undefined;
    this.problem(res, retryable || created ? 502 : 400, error.message, advice);
  }

  private save(res: ServerResponse, app: RegisteredApp) {
    try {
      updateEnvFile(this.envPath, envValues(app));
    } catch (error) {
      if (!isUserError(error)) throw error;
      this.logger.error(
        { code: error.code, appId: app.id },
        `GitHub App registered but not saved: ${error.message}`,
      );
      return this.problem(
        res,
        500,
        `GitHub created the App ${app.slug} (id ${app.id}), but ${error.message}.`,
        `Set APP_ID, WEBHOOK_SECRET and a private key generated on ${app.html_url} yourself, or delete the App and start again.`,
      );
    }
    this.registered = app;
    this.states.clear();
    this.logger.info(
      { appId: app.id, slug: app.slug, envPath: this.envPath },
      `GitHub App ${app.slug} (id ${app.id}) registered; its credentials are in ${this.envPath}: restart the service`,
    );
    this.send(res, 200, 'GitHub App registered', registeredBody(app, this.envPath));
  }
}

export function createSetupRoutes(env: Env, logger: Logger, options: SetupPageOptions = {}): Route[] {
  const page = new SetupPage(env, logger, options);
  const handler = (req: IncomingMessage, res: ServerResponse) => page.handle(req, res);
  return [
    { prefix: '/', handler },
    { prefix: '/setup', handler },
  ];
}
