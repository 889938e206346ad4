import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  agentPullRequest,
  file,
  githubApi,
  postWebhook,
  useGithubService,
  WEBHOOK_SECRET,
} from '../helpers/github.js';
import { checkRuns, prReads } from '../helpers/github-reads.js';

const ctx = useGithubService();

const deliveries = async () =>
  (await ctx.service.runtime.store.reader.get(
    "SELECT COUNT(*) AS n FROM ledger_entries WHERE type = 'delivery.received'",
  )) as { n: number };

describe('the webhook endpoint refuses what it cannot trust, and records nothing', () => {
  it.each([
    [
      'a forged signature',
      { signature: 'sha256=0000000000000000000000000000000000000000000000000000000000000000' },
      401,
      'bad_signature',
    ],
    ['no signature', { signature: null }, 401, 'bad_signature'],
    ['a body that is not JSON', { body: 'action=opened&number=2' }, 400, 'bad_json'],
  ] as const)('%s', async (_n, options, status, error) => {
    const res = await postWebhook(ctx.service.port, 'pull_request', agentPullRequest(), options);
    expect(res.status).toBe(status);
    expect(await res.json()).toMatchObject({ error });
    expect((await deliveries()).n).toBe(0);
    expect(await ctx.service.github!.pendingDeliveries()).toBe(0);
  });

  /** A pull_request body whose title is `bytes`, and the answer to it signed over `signed` (default: the body). */
  async function postTitleBytes(bytes: number[], signed?: number[]) {
    const payload = agentPullRequest();
    payload.pull_request.title = 'TITLE';
    const [before, after] = JSON.stringify(payload).split('TITLE') as [string, string];
    const withTitle = (title: number[]) =>
      Buffer.concat([Buffer.from(before), Buffer.from(title), Buffer.from(after)]);
    const body = withTitle(bytes);
    const mac = createHmac('sha256', WEBHOOK_SECRET).update(withTitle(signed ?? bytes));
    const res = await fetch(`http://127.0.0.1:${ctx.service.port}/api/github/webhooks`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-github-event': 'pull_request',
        'x-github-delivery': crypto.randomUUID(),
        'x-hub-signature-256': `sha256=${mac.digest('hex')}`,
      },
      body,
    });
    return { status: res.status, body: (await res.json()) as { error?: string; message?: string } };
  }

  it('bytes that differ from the signed ones: U+FFFD (EF BF BD) signed, FF sent, is a bad signature', async () => {
    const res = await postTitleBytes([0x78, 0xff, 0x79], [0x78, 0xef, 0xbf, 0xbd, 0x79]);
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ error: 'bad_signature' });
    expect((await deliveries()).n).toBe(0);
  });

  it.each([
    ['FF FE', [0xff, 0xfe]],
    ['an overlong C0 AF C0 A2', [0xc0, 0xaf, 0xc0, 0xa2]],
  ])(
    'a body that is not UTF-8 (%s), signed over its bytes: 400 bad_body, nothing recorded',
    async (_n, bytes) => {
      const res = await postTitleBytes(bytes);
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('bad_body');
      expect(res.body.message).toMatch(/UTF-8/);
      expect((await deliveries()).n).toBe(0);
    },
  );

  it('a body in UTF-16 with a BOM, signed over its bytes: 400 bad_body, not a bad signature', async () => {
    const text = JSON.stringify(agentPullRequest());
    const body = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    const res = await fetch(`http://127.0.0.1:${ctx.service.port}/api/github/webhooks`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-github-event': 'pull_request',
        'x-github-delivery': crypto.randomUUID(),
        'x-hub-signature-256': `sha256=${createHmac('sha256', WEBHOOK_SECRET).update(body).digest('hex')}`,
      },
      body,
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'bad_body' });
    expect((await deliveries()).n).toBe(0);
  });

  it('a payload of the wrong shape', async () => {
    const payload = agentPullRequest();
    payload.pull_request.head.sha = 'not-a-sha';
    const res = await postWebhook(ctx.service.port, 'pull_request', payload);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: 'bad_payload',
      message:
        'not a valid pull_request payload: pull_request.head.sha: Invalid string: must match pattern /^[0-9a-f]{40}$/',
    });
    const noInstallation = agentPullRequest();
    delete noInstallation.installation;
    expect((await postWebhook(ctx.service.port, 'pull_request', noInstallation)).status).toBe(400);
    expect((await deliveries()).n).toBe(0);
  });

  it('a repository name GitHub would never give (a dot segment, a full name that is not owner/name) is refused, nothing stored', async () => {
    const named = (patch: (r: Record<string, any>) => void) => {
      const payload = agentPullRequest();
      patch(payload.repository);
      return payload;
    };
    const cases = [
      named((r) => Object.assign(r, { name: '..', full_name: 'Codertocat/..' })),
      named((r) => Object.assign(r, { name: '.', full_name: 'Codertocat/.' })),
      named((r) => Object.assign(r, { owner: { ...r.owner, login: '..' }, full_name: '../Hello-World' })),
      named((r) => Object.assign(r, { full_name: 'Codertocat/Other-Repo' })),
      named((r) => Object.assign(r, { name: 'Hello World', full_name: 'Codertocat/Hello World' })),
    ];
    for (const payload of cases) {
      const res = await postWebhook(ctx.service.port, 'pull_request', payload);
      expect(res.status, payload.repository.full_name).toBe(400);
      expect(await res.json()).toMatchObject({
        error: 'bad_payload',
        message: expect.stringMatching(/^not a valid pull_request payload: repository/),
      });
    }
    expect((await deliveries()).n).toBe(0);
  });

  it('a field GitHub keeps short (an action, a branch, a login, a title) sent megabytes long is refused, nothing stored', async () => {
    const huge = 'x'.repeat(5 * 1024 * 1024);
    const patches: Array<[string, (p: Record<string, any>) => void]> = [
      ['action', (p) => (p.action = huge)],
      ['pull_request.head.ref', (p) => (p.pull_request.head.ref = huge)],
      ['pull_request.user.login', (p) => (p.pull_request.user.login = huge)],
      ['pull_request.title', (p) => (p.pull_request.title = huge)],
    ];
    for (const [path, patch] of patches) {
      const payload = agentPullRequest();
      patch(payload);
      const res = await postWebhook(ctx.service.port, 'pull_request', payload);
      expect(res.status, path).toBe(400);
      expect(await res.json()).toMatchObject({
        error: 'bad_payload',
        message: expect.stringContaining(`not a valid pull_request payload: ${path}: Too big`),
      });
    }
    expect((await deliveries()).n).toBe(0);
  });

  it('answers ping, ignores events it does not handle, and processes a redelivery once', async () => {
    expect(
      (await postWebhook(ctx.service.port, 'ping', { zen: 'Keep it logically awesome.', hook_id: 1 })).status,
    ).toBe(200);
    expect((await postWebhook(ctx.service.port, 'star', { action: 'created' })).status).toBe(202);
    githubApi();
    prReads({ files: [file('docs/a.md', '@@ -1 +1 @@\n+x')] });
    const { scope } = checkRuns(90);
    const id = '72d3162e-cc78-11e3-81ab-4c9367dc0958';
    expect(
      (await postWebhook(ctx.service.port, 'pull_request', agentPullRequest(), { deliveryId: id })).status,
    ).toBe(202);
    const again = await postWebhook(ctx.service.port, 'pull_request', agentPullRequest(), { deliveryId: id });
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ ok: true, duplicate: true });
    await ctx.service.github!.drain();
    expect(scope.isDone()).toBe(true);
    expect((await deliveries()).n).toBe(1);
    const decisions = await ctx.service.runtime.store.reader.get('SELECT COUNT(*) AS n FROM decisions');
    expect(decisions).toEqual({ n: 1 });
  });
});

describe('the policy comes from the default branch', () => {
  it('judges an agent PR that relaxes .github/agent-governance.yml by the default branch config, and flags it', async () => {
    githubApi();
    const relaxed =
      '@@ -1,2 +1,2 @@\n-extends: strict\n+extends: default\n+rules: { secrets: { enabled: false } }';
    prReads({
      policy: 'extends: strict\n',
      files: [file('.github/agent-governance.yml', relaxed), file('docs/a.md', '@@ -1 +1 @@\n+x')],
    });
    const { bodies } = checkRuns(91);
    await postWebhook(ctx.service.port, 'pull_request', agentPullRequest());
    await ctx.service.github!.drain();
    const final = bodies.at(-1);
    expect(final).toMatchObject({ method: 'POST', status: 'completed', conclusion: 'failure' });
    expect(final.output.summary).toContain(
      'Codertocat/Hello-World:.github/agent-governance.yml@master extends strict',
    );
    expect(final.output.summary).toContain(
      "| execute | `governance_config` | ❌ fired | changes `.github/agent-governance.yml`, the config that judges it; judged by the default branch's config instead |",
    );
    expect(final.output.annotations).toContainEqual(
      expect.objectContaining({ path: '.github/agent-governance.yml', title: 'Governance config changed' }),
    );
    const violations = await ctx.service.runtime.store.reader.all('SELECT type, severity FROM violations');
    expect(violations).toContainEqual({ type: 'policy_config_tampering', severity: 'critical' });
  });

  it('fails the check with file, line and column when the policy file is invalid', async () => {
    githubApi();
    prReads({
      policy: 'rules:\n  secrets:\n    action: allow\n',
      files: [file('docs/a.md', '@@ -1 +1 @@\n+x')],
    });
    const { bodies } = checkRuns(92);
    await postWebhook(ctx.service.port, 'pull_request', agentPullRequest());
    await ctx.service.github!.drain();
    expect(bodies).toHaveLength(1);
    expect(bodies[0]).toMatchObject({
      method: 'POST',
      status: 'completed',
      conclusion: 'failure',
      output: { title: 'The governance policy file is invalid' },
    });
    expect(bodies[0].output.summary).toContain(
      '`Codertocat/Hello-World:.github/agent-governance.yml:3:13: rules.secrets.action: must be one of "deny", "require_approval"`',
    );
  });

  it('sends more than 50 annotations in batches of 50', async () => {
    githubApi();
    const lines = Array.from(
      { length: 120 },
      (_, i) => `+key${i} = "AKIAIOSFODNN7EXAMPL${String.fromCharCode(65 + (i % 26))}"`,
    );
    prReads({ files: [file('docs/keys.md', `@@ -0,0 +1,120 @@\n${lines.join('\n')}`, 'added')] });
    const { bodies } = checkRuns(93, 2);
    await postWebhook(ctx.service.port, 'pull_request', agentPullRequest());
    await ctx.service.github!.drain();
    expect(bodies.map((b) => [b.method, b.status ?? null, b.output.annotations.length])).toEqual([
      ['POST', 'completed', 50],
      ['PATCH', null, 50],
      ['PATCH', null, 20],
    ]);
  });
});
