import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import nock from 'nock';
import { type RunningService, startService } from '../../src/app/service.js';
import { readEnv } from '../../src/config/read-env.js';
import type { GateRule } from '../../src/core/policy/gate-tally.js';
import { createLogger } from '../../src/platform/logger.js';
import { tempDir } from '../helpers/agov.js';

export const CLIENT_ID = 'Iv1.testclientid';
export const CLIENT_SECRET = 'test-client-secret';
export const SESSION_SECRET = 's'.repeat(48);
export const REPO = 'octo/widgets';
export const HEAD = 'b'.repeat(40);

export const WEB_ORG = `
agents:
  - id: builder-bot
    tier: T2
    owner: olivia
    github_logins: ["builder-bot[bot]"]
approvers:
  - { github: alice }
  - { github: bob }
  - { github: carol }
people:
  - { github: olivia }
`;

export async function startWebService(
  env: Record<string, string> = {},
  org = WEB_ORG,
): Promise<RunningService> {
  const dir = tempDir();
  writeFileSync(join(dir, 'org.yml'), org);
  return startService(
    readEnv({
      LEDGER_PATH: join(dir, 'ledger.db'),
      GOVERNANCE_CONFIG: join(dir, 'org.yml'),
      PORT: '0',
      HOST: '127.0.0.1',
      HEALTH_PROBE_INTERVAL_MS: '600000',
      CHECKPOINT_INTERVAL_MINUTES: '0',
      GITHUB_CLIENT_ID: CLIENT_ID,
      GITHUB_CLIENT_SECRET: CLIENT_SECRET,
      WEB_SESSION_SECRET: SESSION_SECRET,
      ...env,
    }),
    createLogger(process.env.DEBUG_LOG ? 'warn' : 'silent'),
  );
}

export function gateRule(gate: string, eligible: string[], approvals = 1): GateRule {
  return {
    gate,
    approvals,
    council: false,
    veto: false,
    distinctTeams: false,
    eligible,
    unmapped: [],
    allowOwner: false,
    survivePush: false,
    githubReviews: true,
    expiryHours: 72,
    onExpiry: 'reject',
  };
}

/** Records a decision on a PR through the service's own path (`Governance.recordDecision`). */
export async function recordWaitingDecision(
  service: RunningService,
  patch: { repository?: string; number?: number; title?: string; gates?: GateRule[]; summary?: string } = {},
) {
  const gates = patch.gates ?? [
    gateRule('security', ['alice', 'bob']),
    gateRule('platform', ['carol', 'olivia']),
  ];
  return service.runtime.governance.recordDecision(
    {
      agentId: 'builder-bot',
      repository: patch.repository ?? REPO,
      number: patch.number ?? 7,
      headSha: HEAD,
      outcome: 'require_approval',
      summary: patch.summary ?? `Waiting for ${gates.length} gate(s)`,
      tier: 'T2',
      policyVersion: 'pv-1',
      diffHash: 'dh-1',
      rules: [
        {
          rule: 'protected_paths',
          status: 'fire',
          summary: 'changes `infra/` which gate `security` protects',
        },
      ],
      violations: [],
      author: 'builder-bot[bot]',
      installationId: 1,
      title: patch.title ?? 'Bump the widget cache',
      url: `https://github.com/${patch.repository ?? REPO}/pull/${patch.number ?? 7}`,
      attribution: { strength: 'authenticated', via: 'author builder-bot[bot]', author: 'builder-bot[bot]' },
      gates,
    },
    'test',
  );
}

/** An approval receipt as Slack or a review records it. */
export async function recordApproval(service: RunningService, approver: string, gate: string, number = 7) {
  await service.runtime.governance.record([
    {
      type: 'approval.recorded',
      agentId: 'builder-bot',
      actor: approver,
      payload: {
        repository: REPO,
        number,
        approver,
        verdict: 'approve',
        gate,
        headSha: HEAD,
        diffHash: 'dh-1',
        policyVersion: 'pv-1',
        source: 'slack',
      },
    },
  ]);
}

/** GitHub's OAuth and user endpoints, at their documented paths, for one person. */
export function githubSignIn(login: string, repositories: string[], code = 'the-code') {
  const web = nock('https://github.com')
    .post(
      '/login/oauth/access_token',
      (body) => body.client_id === CLIENT_ID && body.client_secret === CLIENT_SECRET && body.code === code,
    )
    .reply(200, { access_token: 'ghu_usertoken', token_type: 'bearer', scope: '' });
  const api = nock('https://api.github.com', { reqheaders: { authorization: 'Bearer ghu_usertoken' } })
    .get('/user')
    .reply(200, { login, id: 1 })
    .get('/user/installations')
    .query({ per_page: '100' })
    .reply(200, { total_count: 1, installations: [{ id: 77, account: { login: 'octo' } }] })
    .get('/user/installations/77/repositories')
    .query({ per_page: '100', page: '1' })
    .reply(200, {
      total_count: repositories.length,
      repositories: repositories.map((full_name) => ({ full_name })),
    });
  return { web, api, done: () => web.isDone() && api.isDone() };
}

export function cookiesOf(res: Response): Map<string, string> {
  const jar = new Map<string, string>();
  for (const c of res.headers.getSetCookie()) {
    const [pair] = c.split(';');
    const eq = pair!.indexOf('=');
    jar.set(pair!.slice(0, eq), pair!.slice(eq + 1));
  }
  return jar;
}

export function cookieHeader(jar: Map<string, string>): string {
  return [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
}

/** Signs in through the whole flow (start, GitHub's redirect back with code and state) and returns the cookie jar. */
export async function signIn(port: number, login: string, repositories: string[], returnTo = '/') {
  const base = `http://127.0.0.1:${port}`;
  const start = await fetch(`${base}/auth/signin?return_to=${encodeURIComponent(returnTo)}`, {
    redirect: 'manual',
  });
  const state = new URL(start.headers.get('location')!).searchParams.get('state')!;
  const jar = cookiesOf(start);
  const gh = githubSignIn(login, repositories);
  const back = await fetch(`${base}/auth/callback?code=the-code&state=${state}`, {
    redirect: 'manual',
    headers: { cookie: cookieHeader(jar) },
  });
  if (back.status !== 302) throw new Error(`sign-in answered ${back.status}: ${await back.text()}`);
  return { jar: cookiesOf(back), response: back, githubCalled: gh.done() };
}
