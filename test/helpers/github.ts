import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import examples from '@octokit/webhooks-examples/api.github.com/index.json' with { type: 'json' };
import { sign } from '@octokit/webhooks-methods';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { type RunningService, startService } from '../../src/app/service.js';
import { readEnv } from '../../src/config/read-env.js';
import type { GithubIntegrationOptions } from '../../src/github/github-integration.js';
import { createLogger, type Logger } from '../../src/platform/logger.js';
import { tempDir } from './agov.js';

export const WEBHOOK_SECRET = 'test-webhook-secret';
export const API = 'https://api.github.com';

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
export const PRIVATE_KEY = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();

type Example = { name: string; examples: Record<string, unknown>[] };

/** A real payload from @octokit/webhooks-examples, of `event` with `action`, carrying an installation. */
export function examplePayload(event: string, action: string): Record<string, any> {
  const group = (examples as unknown as Example[]).find((e) => e.name === event);
  const withInstallation = group?.examples.filter((x) => x.action === action && x.installation);
  const found = withInstallation?.[0] ?? group?.examples.find((x) => x.action === action);
  if (!found) throw new Error(`no ${event}.${action} example`);
  return structuredClone({ installation: { id: 1 }, ...found }) as Record<string, any>;
}

let snapshots = Date.parse('2019-05-15T15:20:33Z');

/**
 * An agent's `pull_request` delivery: the real example with its author set to the agent's bot
 * login, and a later `updated_at` than any built before (each a new snapshot of the PR, as GitHub
 * sends after any change; the same snapshot sent again is not evaluated again).
 */
export function agentPullRequest(action = 'opened', patch: { sha?: string; login?: string } = {}) {
  const payload = examplePayload('pull_request', action);
  snapshots += 1000;
  payload.pull_request.updated_at = new Date(snapshots).toISOString().replace('.000Z', 'Z');
  payload.installation = { id: 1 };
  payload.pull_request.user.login = patch.login ?? 'docs-bot[bot]';
  if (patch.sha) payload.pull_request.head.sha = patch.sha;
  return payload;
}

export async function postWebhook(
  port: number,
  event: string,
  payload: unknown,
  options: { deliveryId?: string; signature?: string | null; body?: string } = {},
): Promise<Response> {
  const body = options.body ?? JSON.stringify(payload);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'x-github-event': event,
    'x-github-delivery': options.deliveryId ?? crypto.randomUUID(),
  };
  const signature = options.signature === undefined ? await sign(WEBHOOK_SECRET, body) : options.signature;
  if (signature !== null) headers['x-hub-signature-256'] = signature;
  return fetch(`http://127.0.0.1:${port}/api/github/webhooks`, { method: 'POST', headers, body });
}

export const ORG_CONFIG = `
agents:
  - id: docs-bot
    tier: T1
    owner: olivia
    github_logins: ["docs-bot[bot]"]
  - id: builder-bot
    tier: T2
    owner: olivia
    github_logins: ["builder-bot[bot]"]
  - id: claude-helper
    tier: T2
    owner: olivia
    trailers: ["Claude <noreply@anthropic.com>"]
approvers:
  - { github: alice }
  - { github: bob }
  - { github: olivia }
`;

export async function startGithubService(
  options: {
    redisUrl?: string;
    ledgerPath?: string;
    extraConfig?: string;
    orgConfig?: string;
    github?: GithubIntegrationOptions;
    /** More environment variables (e.g. HEALTH_PROBE_INTERVAL_MS). */
    env?: Record<string, string>;
    /** Where the service logs (nowhere by default). */
    logger?: Logger;
  } = {},
): Promise<RunningService> {
  const dir = tempDir();
  const config = join(dir, 'agent-governance.yml');
  writeFileSync(config, (options.orgConfig ?? ORG_CONFIG) + (options.extraConfig ?? ''));
  const env = readEnv({
    LEDGER_PATH: options.ledgerPath ?? join(dir, 'ledger.db'),
    REDIS_URL: options.redisUrl,
    GOVERNANCE_CONFIG: config,
    PORT: '0',
    HOST: '127.0.0.1',
    APP_ID: '123',
    PRIVATE_KEY,
    WEBHOOK_SECRET,
    CHECKPOINT_INTERVAL_MINUTES: '0',
    ...options.env,
  });
  return startService(env, options.logger ?? createLogger('silent'), {
    github: {
      reconcileIntervalMs: 3_600_000,
      retry: { initialMs: 20, maxMs: 100 },
      breaker: { halfOpenAfterMs: 100, consecutiveFailures: 3 },
      // Every decision here is quick; a busy test machine must not make one look slow.
      inProgressAfterMs: 60_000,
      ...options.github,
    },
  });
}

/** nock for the GitHub API: the installation token, which every installation call needs first. */
export function githubApi() {
  return nock(API).post('/app/installations/1/access_tokens').optionally().times(100).reply(201, {
    token: 'ghs_installation_token',
    expires_at: '2099-01-01T00:00:00Z',
    permissions: {},
    repository_selection: 'all',
  });
}

export function file(filename: string, patch: string, status = 'modified') {
  const additions = patch.split('\n').filter((l) => l.startsWith('+')).length;
  return { sha: `sha-${filename}`, filename, status, additions, deletions: 0, changes: additions, patch };
}

/**
 * The hooks every GitHub test file needs: no network but loopback, a fresh service with the GitHub
 * App before each test, stopped after it with every nock interceptor cleared.
 */
export function useGithubService(options: Parameters<typeof startGithubService>[0] = {}): {
  readonly service: RunningService;
} {
  let current: RunningService | null = null;
  beforeAll(() => {
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
  });
  afterAll(() => nock.enableNetConnect());
  beforeEach(async () => {
    current = await startGithubService(options);
  });
  afterEach(async () => {
    await current?.stop();
    current = null;
    nock.cleanAll();
  });
  return {
    get service() {
      if (!current) throw new Error('the service runs only inside a test');
      return current;
    },
  };
}
