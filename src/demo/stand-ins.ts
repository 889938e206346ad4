/**
 * Loopback stand-ins for GitHub's REST API (as on GitHub Enterprise Server, under /api/v3) and
 * Slack's Web API, for `agov demo` and the benchmarks: enough of each for the service to work
 * against, and a record of what it was asked, to show as a user would see it.
 */
import { createHmac, generateKeyPairSync } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sign } from '@octokit/webhooks-methods';

export interface StandInPullRequest {
  number: number;
  title: string;
  author: string;
  headSha: string;
  files: { filename: string; patch: string; status?: string }[];
}

export interface CheckRunRecord {
  id: number;
  /** True for the call that created the check run; updates are recorded after it. */
  created: boolean;
  headSha: string;
  status: string;
  conclusion: string | null;
  title: string;
}

/** A stand-in's HTTP server on a free loopback port: each request handed over with its whole body. */
abstract class LoopbackStandIn {
  private server: Server | null = null;
  port = 0;

  protected abstract handle(req: IncomingMessage, body: string, res: ServerResponse): void;

  async start(): Promise<this> {
    const server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      this.handle(req, Buffer.concat(chunks).toString(), res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  stop(): void {
    this.server?.close();
  }
}

function json(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

export class GithubStandIn extends LoopbackStandIn {
  readonly pulls = new Map<number, StandInPullRequest>();
  readonly checkRuns: CheckRunRecord[] = [];
  policy: string | null = null;
  /** Fault injection: answer every call with this status (502, or 403 rate-limited) until cleared. */
  failWith: 502 | 403 | null = null;

  constructor(
    readonly owner = 'acme',
    readonly repo = 'web',
  ) {
    super();
  }

  get repository() {
    return {
      full_name: `${this.owner}/${this.repo}`,
      name: this.repo,
      owner: { login: this.owner },
      default_branch: 'main',
    };
  }

  pullRequestPayload(number: number, action = 'opened') {
    const pr = this.pulls.get(number)!;
    return {
      action,
      number,
      installation: { id: 1 },
      repository: this.repository,
      sender: { login: pr.author },
      pull_request: this.pullJson(pr),
    };
  }

  /** The newest state of this app's check on a commit. */
  checkOn(headSha: string): CheckRunRecord | undefined {
    return this.checkRuns.filter((c) => c.headSha === headSha).at(-1);
  }

  private pullJson(pr: StandInPullRequest) {
    return {
      number: pr.number,
      title: pr.title,
      html_url: `https://github.example/${this.owner}/${this.repo}/pull/${pr.number}`,
      user: { login: pr.author },
      state: 'open',
      draft: false,
      head: { sha: pr.headSha, ref: `change-${pr.number}` },
      base: { ref: 'main' },
    };
  }

  protected handle(req: IncomingMessage, body: string, res: ServerResponse) {
    if (this.failWith === 502) return json(res, 502, { message: 'Bad Gateway' });
    if (this.failWith === 403) {
      res.writeHead(403, {
        'content-type': 'application/json',
        'x-ratelimit-remaining': '0',
        'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 1),
      });
      return res.end(JSON.stringify({ message: 'API rate limit exceeded' }));
    }
    const path = new URL(req.url!, 'http://x').pathname.replace(/^\/api\/v3/, '');
    if (path === '/app/installations') return json(res, 200, [{ id: 1, account: { login: this.owner } }]);
    if (path === '/installation/repositories')
      return json(res, 200, { total_count: 1, repositories: [this.repository] });
    if (path === `/repos/${this.owner}/${this.repo}/pulls`)
      return json(
        res,
        200,
        [...this.pulls.values()].map((p) => this.pullJson(p)),
      );
    const data = body ? JSON.parse(body) : {};
    if (req.method === 'POST' && /^\/app\/installations\/\d+\/access_tokens$/.test(path)) {
      return json(res, 201, { token: 'ghs_stand_in', expires_at: '2099-01-01T00:00:00Z' });
    }
    const repoPrefix = `/repos/${this.owner}/${this.repo}`;
    if (path.includes('/contents/')) {
      if (path.startsWith(repoPrefix) && this.policy) {
        return json(res, 200, {
          type: 'file',
          encoding: 'base64',
          content: Buffer.from(this.policy).toString('base64'),
        });
      }
      return json(res, 404, { message: 'Not Found' });
    }
    const pull = /^\/repos\/[^/]+\/[^/]+\/pulls\/(\d+)(\/commits|\/files)?$/.exec(path);
    if (pull) {
      const pr = this.pulls.get(Number(pull[1]));
      if (!pr) return json(res, 404, { message: 'Not Found' });
      if (pull[2] === '/commits') return json(res, 200, [{ sha: pr.headSha, commit: { message: pr.title } }]);
      if (pull[2] === '/files') {
        return json(
          res,
          200,
          pr.files.map((f) => {
            const additions = f.patch.split('\n').filter((l) => l.startsWith('+')).length;
            return {
              sha: `blob-${f.filename}-${pr.headSha}`,
              filename: f.filename,
              status: f.status ?? 'modified',
              additions,
              deletions: 0,
              changes: additions,
              patch: f.patch,
            };
          }),
        );
      }
      return json(res, 200, this.pullJson(pr));
    }
    if (path === repoPrefix) return json(res, 200, this.repository);
    if (req.method === 'POST' && path === `${repoPrefix}/check-runs`) {
      const id = this.checkRuns.length + 1;
      this.checkRuns.push({
        id,
        created: true,
        headSha: data.head_sha,
        status: data.status,
        conclusion: data.conclusion ?? null,
        title: data.output?.title ?? '',
      });
      return json(res, 201, { id });
    }
    const listed = /^\/repos\/[^/]+\/[^/]+\/commits\/([0-9a-f]{40})\/check-runs$/.exec(path);
    if (req.method === 'GET' && listed) {
      const latest = this.checkOn(listed[1]!);
      return json(res, 200, {
        total_count: latest ? 1 : 0,
        check_runs: latest ? [{ id: latest.id, name: 'Agent Governance', head_sha: latest.headSha }] : [],
      });
    }
    const update = /\/check-runs\/(\d+)$/.exec(path);
    if (req.method === 'PATCH' && update) {
      const first = this.checkRuns.find((c) => c.id === Number(update[1]));
      if (!first) return json(res, 404, { message: 'Not Found' });
      this.checkRuns.push({
        ...first,
        created: false,
        status: data.status ?? first.status,
        conclusion: data.conclusion ?? null,
        title: data.output?.title ?? first.title,
      });
      return json(res, 200, { id: first.id });
    }
    json(res, 404, { message: `the stand-in has no ${req.method} ${path}` });
  }
}

export class SlackStandIn extends LoopbackStandIn {
  /** Every Web API call, with the message `ts` each answer carried. */
  readonly calls: { method: string; args: Record<string, string>; ts: string }[] = [];
  /** Fault injection: 429 (with Retry-After) or 503 until cleared. */
  failWith: 429 | 503 | null = null;

  get apiUrl(): string {
    return `http://127.0.0.1:${this.port}/api/`;
  }

  /** The approval key of every approval request card posted (not updated), in order. */
  approvalCards(): string[] {
    return this.calls
      .filter((c) => c.method === 'chat.postMessage' && c.args.blocks)
      .map((c) => approveButtonValue(c.args.blocks))
      .filter((k): k is string => k !== null);
  }

  protected handle(req: IncomingMessage, body: string, res: ServerResponse) {
    if (this.failWith === 429) {
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '1' });
      return res.end(JSON.stringify({ ok: false, error: 'ratelimited' }));
    }
    if (this.failWith === 503) return json(res, 503, { ok: false, error: 'service_unavailable' });
    const method = new URL(req.url!, 'http://x').pathname.replace('/api/', '');
    const args = String(req.headers['content-type']).includes('json')
      ? JSON.parse(body || '{}')
      : Object.fromEntries(new URLSearchParams(body));
    const ts = method === 'chat.update' ? args.ts! : `${1700000000 + this.calls.length}.000100`;
    this.calls.push({ method, args, ts });
    json(res, 200, { ok: true, channel: args.channel, ts });
  }
}

/**
 * Vault's HTTP API, as much of it as the service uses: tier policies, an AppRole per agent, tokens
 * by AppRole login, and their revocation. It keeps which secret-ids and token accessors are live,
 * so a run can check that a revoked agent keeps none. `sealed` answers 503 as a sealed Vault does.
 */
export class VaultStandIn extends LoopbackStandIn {
  sealed = false;
  readonly policies = new Map<string, string>();
  /** Live secret-id accessors by AppRole role. */
  readonly secretIds = new Map<string, Set<string>>();
  /** Live token accessor → the role it logged in as. */
  readonly tokens = new Map<string, string>();
  private readonly pendingSecrets = new Map<string, string>();
  private readonly singleUse = new Set<string>();
  private next = 0;

  get addr(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  protected handle(req: IncomingMessage, body: string, res: ServerResponse) {
    const url = new URL(req.url!, 'http://x');
    const path = url.pathname.replace(/^\/v1\//, '');
    if (path === 'sys/health')
      return json(res, this.sealed ? 503 : 200, { initialized: true, sealed: this.sealed, standby: false });
    if (this.sealed) return json(res, 503, { errors: ['Vault is sealed'] });
    const data = body ? JSON.parse(body) : {};
    const done = () => res.writeHead(204).end();
    const policy = /^sys\/policies\/acl\/(.+)$/.exec(path);
    if (policy && (req.method === 'PUT' || req.method === 'POST')) {
      this.policies.set(policy[1]!, data.policy);
      return done();
    }
    if (path === 'sys/auth') return json(res, 200, { data: { 'approle/': { type: 'approle' } } });
    if (path === 'sys/auth/approle') return done();
    const role = /^auth\/approle\/role\/([^/]+)(\/.*)?$/.exec(path);
    if (role) {
      const [, name, rest = ''] = role as unknown as [string, string, string | undefined];
      const ids = this.secretIds.get(name) ?? new Set<string>();
      this.secretIds.set(name, ids);
      if (rest === '') return done();
      if (rest === '/role-id') return json(res, 200, { data: { role_id: `role-${name}` } });
      if (rest === '/secret-id' && url.searchParams.has('list'))
        return ids.size ? json(res, 200, { data: { keys: [...ids] } }) : json(res, 404, { errors: [] });
      if (rest === '/secret-id') {
        const n = ++this.next;
        ids.add(`sid-acc-${n}`);
        this.pendingSecrets.set(`sid-${n}`, name);
        if (data.num_uses === 1) this.singleUse.add(`sid-acc-${n}`);
        return json(res, 200, { data: { secret_id: `sid-${n}`, secret_id_accessor: `sid-acc-${n}` } });
      }
      if (rest === '/secret-id-accessor/destroy') {
        ids.delete(data.secret_id_accessor);
        return done();
      }
    }
    if (path === 'auth/approle/login') {
      const name = this.pendingSecrets.get(data.secret_id);
      if (!name || !this.secretIds.get(name)?.has(String(data.secret_id).replace('sid-', 'sid-acc-')))
        return json(res, 400, { errors: ['invalid secret id'] });
      const n = ++this.next;
      this.tokens.set(`tok-acc-${n}`, name);
      const used = String(data.secret_id).replace('sid-', 'sid-acc-');
      if (this.singleUse.delete(used)) this.secretIds.get(name)?.delete(used); // num_uses 1: consumed
      return json(res, 200, {
        auth: { client_token: `hvs.tok-${n}`, accessor: `tok-acc-${n}`, lease_duration: 900 },
      });
    }
    if (path === 'auth/token/revoke-accessor') {
      if (!this.tokens.delete(data.accessor)) return json(res, 400, { errors: ['invalid accessor'] });
      return done();
    }
    if (path.startsWith('secret/data/')) return json(res, 404, { errors: [] });
    json(res, 404, { errors: [`the stand-in has no ${req.method} ${path}`] });
  }
}

/** The approval key on a message's Approve button, if it has one (blocks as sent: JSON text or an array). */
export function approveButtonValue(blocks: unknown): string | null {
  const list = typeof blocks === 'string' ? JSON.parse(blocks) : (blocks ?? []);
  for (const b of list as { elements?: { action_id?: string; value?: string }[] }[])
    for (const e of b.elements ?? []) if (e.action_id === 'approval_approve') return e.value ?? null;
  return null;
}

/** Clicks an approval button as Slack would send it: a signed `block_actions` payload. */
export async function clickApprove(
  baseUrl: string,
  signingSecret: string,
  user: string,
  approvalKey: string,
): Promise<Response> {
  const form = new URLSearchParams({
    payload: JSON.stringify({
      type: 'block_actions',
      user: { id: user },
      trigger_id: `click-${Date.now()}`,
      channel: { id: 'C0APPROVALS' },
      actions: [{ action_id: 'approval_approve', value: approvalKey, action_ts: `${Date.now() / 1000}` }],
    }),
  }).toString();
  const ts = Math.floor(Date.now() / 1000);
  return fetch(`${baseUrl}/slack/events`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': String(ts),
      'x-slack-signature': `v0=${createHmac('sha256', signingSecret).update(`v0:${ts}:${form}`).digest('hex')}`,
    },
    body: form,
  });
}

/** Delivers a `pull_request` webhook as GitHub would: signed, with a delivery id. */
export async function deliverPullRequest(
  baseUrl: string,
  secret: string,
  payload: unknown,
  deliveryId: string,
): Promise<Response> {
  const body = JSON.stringify(payload);
  return fetch(`${baseUrl}/api/github/webhooks`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-github-event': 'pull_request',
      'x-github-delivery': deliveryId,
      'x-hub-signature-256': await sign(secret, body),
    },
    body,
  });
}

/** The policy the demo and the chaos run put on the stand-in repository's default branch. */
export const STAND_IN_POLICY =
  'rules:\n  protected_paths: { paths: ["docs/legal/**"] }\ngates:\n  protected: { approvals: 1, allow_owner: false }\n';

/**
 * The environment that points the service at the stand-ins: the GitHub App (with a fresh key) on
 * the GitHub stand-in as an Enterprise Server, and the Slack bot on the Slack stand-in.
 */
export function standInEnv(
  github: GithubStandIn,
  slack: SlackStandIn,
  secrets: { webhook: string; slack: string },
): Record<string, string> {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    HOST: '127.0.0.1',
    APP_ID: '1',
    PRIVATE_KEY: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
    WEBHOOK_SECRET: secrets.webhook,
    GHE_HOST: `127.0.0.1:${github.port}`,
    GHE_PROTOCOL: 'http',
    SLACK_SIGNING_SECRET: secrets.slack,
    SLACK_BOT_TOKEN: 'xoxb-stand-in',
    SLACK_API_URL: slack.apiUrl,
    CHECKPOINT_INTERVAL_MINUTES: '0',
  };
}
