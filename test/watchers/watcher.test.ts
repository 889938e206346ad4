import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import nock from 'nock';
import { expect, it } from 'vitest';
import { openRuntime, sqliteOf } from '../../src/app/open-runtime.js';
import { readEnv } from '../../src/config/read-env.js';
import { dbOf } from '../../src/ledger/ledger.js';
import { ManualClock } from '../../src/platform/clock.js';
import { Watcher } from '../../src/watchers/watcher.js';
import { agov, tempDir } from '../helpers/agov.js';
import { API, githubApi, startGithubService } from '../helpers/github.js';
import { testRuntime } from '../helpers/runtime.js';

it('raises a finding once while it holds, sends it to Slack, and resolves it when it clears', async () => {
  const config = join(tempDir(), 'org.yml');
  writeFileSync(config, 'slack: { findings_channel: C0FINDINGS }\n');
  // The watcher reads "now" from the runtime's clock: a day passes by moving it, not by waiting.
  const clock = new ManualClock();
  const env = readEnv({ LEDGER_PATH: join(tempDir(), 'ledger.db'), GOVERNANCE_CONFIG: config });
  const rt = await openRuntime(env, { stateStore: 'memory', clock });
  const g = rt.governance;
  await g.registerAgent({ id: 'flaky-bot', tier: 'T2' }, 'admin');
  for (const sha of ['a1', 'a2', 'a3']) {
    await g.recordViolation(
      'flaky-bot',
      { type: 'ci_failure', details: 'red' },
      `ci:acme/web#4@${sha}`,
      'github',
    );
  }
  const watcher = new Watcher(g);
  expect((await watcher.run()).map((f) => f.key)).toEqual(['repeated_ci_failure:flaky-bot:acme/web#4']);
  expect(await watcher.run()).toEqual([]);
  expect(
    sqliteOf(rt)
      .outbox.dueFor('slack')
      .map((m) => m.payload),
  ).toEqual([{ channel: 'C0FINDINGS', text: ':mag: flaky-bot failed CI 3 times on acme/web#4 in 24 h' }]);
  clock.advance(25 * 3600_000);
  expect(await watcher.run()).toEqual([]);
  expect(await watcher.openFindings()).toEqual([]);
  const entries = dbOf(sqliteOf(rt))
    .prepare("SELECT type FROM ledger_entries WHERE type LIKE 'finding.%' ORDER BY seq")
    .all();
  expect(entries).toEqual([{ type: 'finding.raised' }, { type: 'finding.resolved' }]);
  await rt.close();

  const r = agov(['suggest'], { LEDGER_PATH: rt.env.LEDGER_PATH, GOVERNANCE_CONFIG: config });
  expect(r.status).toBe(0);
  expect(r.stdout).toContain('- rule secrets never fires: never fired in the window');
});

it('two runs at once raise a finding once, and only one of them reports it', async () => {
  const rt = await testRuntime();
  try {
    const g = rt.governance;
    await g.registerAgent({ id: 'flaky-bot', tier: 'T2' }, 'admin');
    for (const sha of ['a1', 'a2', 'a3'])
      await g.recordViolation(
        'flaky-bot',
        { type: 'ci_failure', details: 'red' },
        `ci:acme/web#4@${sha}`,
        'github',
      );
    // Two replicas' watchers: both read the finding as not open yet, and both go to raise it.
    const [a, b] = await Promise.all([new Watcher(g).run(), new Watcher(g).run()]);
    expect([...a, ...b].map((f) => f.key)).toEqual(['repeated_ci_failure:flaky-bot:acme/web#4']);
    const raised = dbOf(sqliteOf(rt))
      .prepare("SELECT COUNT(*) AS n FROM ledger_entries WHERE type = 'finding.raised'")
      .get() as { n: number };
    expect(raised.n).toBe(1);
  } finally {
    await rt.close();
  }
});

it('opens a finding as a GitHub issue in the configured repository once, and closes it when it clears', async () => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
  const service = await startGithubService({
    extraConfig:
      'watchers: { findings_repository: acme/governance-findings, issue_labels: [agent-governance, bug] }\n',
  });
  try {
    const REPO_PATH = '/repos/acme/governance-findings';
    const created: any[] = [];
    const issues: any[] = [];
    githubApi();
    nock(API)
      .persist()
      .get(`${REPO_PATH}/installation`)
      .reply(200, { id: 1, account: { login: 'acme' } })
      .get(`${REPO_PATH}/issues`)
      .query({ state: 'open', labels: 'agent-governance', per_page: 100 })
      .reply(200, () => issues);
    nock(API)
      .post(`${REPO_PATH}/issues`)
      .reply(502, { message: 'Bad Gateway' }) // the first try fails; the retry must not open two
      .post(`${REPO_PATH}/issues`)
      .reply(201, (_uri, body: any) => {
        created.push(body);
        issues.push({ number: 12, body: body.body });
        return { number: 12 };
      });
    const g = service.runtime.governance;
    for (const sha of ['a1', 'a2', 'a3'])
      await g.recordViolation(
        'docs-bot',
        { type: 'ci_failure', details: 'red' },
        `ci:acme/web#4@${sha}`,
        'github',
      );
    await service.maintenance();
    await service.maintenance(); // still open: not raised, not filed again
    for (let i = 0; i < 50 && sqliteOf(service.runtime).outbox.pendingCount() > 0; i++) {
      await service.github!.settle();
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(created).toHaveLength(1);
    expect(created[0]).toMatchObject({
      title: 'Agent Governance finding: docs-bot failed CI 3 times on acme/web#4 in 24 h',
      labels: ['agent-governance', 'bug'],
    });
    expect(created[0].body).toContain(
      '<!-- agent-governance finding: repeated_ci_failure:docs-bot:acme/web#4 -->',
    );

    const closed: any[] = [];
    nock(API)
      .post(`${REPO_PATH}/issues/12/comments`)
      .reply(201, (_uri, body: any) => {
        closed.push(body);
        return { id: 1 };
      })
      .patch(`${REPO_PATH}/issues/12`)
      .reply(200, (_uri, body: any) => {
        closed.push(body);
        return { number: 12 };
      });
    await service.maintenance(new Date(Date.now() + 25 * 3600_000));
    for (let i = 0; i < 50 && sqliteOf(service.runtime).outbox.pendingCount() > 0; i++) {
      await service.github!.settle();
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(closed).toEqual([
      { body: 'The pattern cleared: the bug watcher resolved this finding.' },
      { state: 'closed', state_reason: 'completed' },
    ]);
    expect(nock.pendingMocks()).toEqual([]); // the 502 was met, and the retry did not open a second issue
  } finally {
    await service.stop();
    nock.cleanAll();
    nock.enableNetConnect();
  }
});

it('suggests from a ledger history: a rule people always approve, an approver who is a bottleneck, a promotion, a demotion', async () => {
  const config = join(tempDir(), 'org.yml');
  writeFileSync(
    config,
    'promotion: { thresholds: { T3: { min_merged_prs: 0, min_days_at_tier: 0, clean_days: 0 } } }\n',
  );
  const rt = await testRuntime({ config });
  const g = rt.governance;
  await g.registerAgent({ id: 'ready-bot', tier: 'T2', owner: 'olivia' }, 'admin');
  await g.registerAgent({ id: 'flaky-bot', tier: 'T2', owner: 'olivia' }, 'admin');
  const decision = (number: number, outcome: 'require_approval' | 'allow', rule: string) =>
    g.recordDecision(
      {
        agentId: 'ready-bot',
        repository: 'acme/web',
        number,
        headSha: 'a'.repeat(40),
        outcome,
        summary: outcome,
        tier: 'T2',
        policyVersion: 'v1',
        diffHash: 'd',
        rules: [{ rule, status: outcome === 'allow' ? 'pass' : 'fire', summary: `${rule} held it` }],
        violations: [],
      },
      'test',
    );
  const approval = (number: number, approver: string, verdict: 'approve' | 'reject') =>
    g.record([
      {
        type: 'approval.recorded',
        agentId: null,
        actor: approver,
        payload: {
          repository: 'acme/web',
          number,
          approver,
          verdict,
          gate: 'default',
          headSha: 'a'.repeat(40),
          diffHash: 'd',
          policyVersion: 'v1',
          source: 'slack',
        },
      },
    ]);
  // Five dependency changes held for people, each approved by alice, then passed.
  for (const n of [1, 2, 3, 4, 5]) {
    await decision(n, 'require_approval', 'dependencies');
    await approval(n, 'alice', 'approve');
    await decision(n, 'allow', 'dependencies');
  }
  // Protected paths held twice: once rejected, so that rule is not a candidate to relax.
  for (const [n, verdict] of [
    [6, 'approve'],
    [7, 'reject'],
  ] as const) {
    await decision(n, 'require_approval', 'protected_paths');
    await approval(n, 'bob', verdict);
    if (verdict === 'approve') await decision(n, 'allow', 'protected_paths');
  }
  // flaky-bot spends 16 of its 20 budget points (three medium, one low): still active, nearly out.
  for (const n of ['1', '2', '3'])
    await g.recordViolation(
      'flaky-bot',
      { type: 'rate_limit_exceeded', details: 'x' },
      `rate:${n}`,
      'agent-api',
    );
  await g.recordViolation('flaky-bot', { type: 'ci_failure', details: 'red' }, 'ci:acme/web#9@1', 'github');

  const list = await new Watcher(g).suggestions();
  const about = (s: (typeof list)[number]) =>
    `${s.kind}:${'agentId' in s ? s.agentId : 'rule' in s ? s.rule : s.approver}`;
  const shown = list.map(about).filter((k) => !k.startsWith('unused_rule'));
  expect(shown.sort()).toEqual(
    ['approver_bottleneck:alice', 'demote:flaky-bot', 'promote:ready-bot', 'relax_rule:dependencies'].sort(),
  );
  expect(list.find((s) => s.kind === 'relax_rule')!.evidence).toEqual([
    'held 5 PRs for approval; people approved all 5',
  ]);
  expect(list.find((s) => s.kind === 'approver_bottleneck')!.evidence).toEqual(['5 of 6 approvals']);
  expect(list.find((s) => s.kind === 'demote')!.evidence).toEqual(['budget 16 of 20 used']);
  // Rules that fired are not "never fires"; the others are.
  const unused = list.filter((s) => s.kind === 'unused_rule').map(about);
  expect(unused).not.toContain('unused_rule:dependencies');
  expect(unused).not.toContain('unused_rule:protected_paths');
  expect(unused).toContain('unused_rule:secrets');
  await rt.close();
});
