import { describe, expect, it } from 'vitest';
import type { AgentRecord } from '../../../src/core/agent.js';
import { EMPTY_ORG_CONFIG, orgConfigSchema, tierCapabilities } from '../../../src/core/org-config.js';
import {
  type ApprovalReceipt,
  addedLinesOf,
  type ChangedFile,
  coAuthorsOf,
  diffHash,
  evaluate,
  type PolicyFile,
  type PullRequestFacts,
  parsePolicyFile,
  renderCheckRun,
  resolvePolicy,
} from '../../../src/core/policy/index.js';
import type { TierId } from '../../../src/core/tiers.js';

const agent = (tier: TierId, patch: Partial<AgentRecord> = {}): AgentRecord => ({
  id: 'docs-bot',
  name: 'Docs Bot',
  owner: 'olivia',
  tier,
  status: 'active',
  identities: { githubLogins: ['docs-bot[bot]'], trailers: [] },
  tokenHash: null,
  registeredAt: '2026-01-01T00:00:00.000Z',
  tierSince: '2026-01-01T00:00:00.000Z',
  ...patch,
});

const file = (path: string, lines: string[] = ['hello'], patch: Partial<ChangedFile> = {}): ChangedFile => ({
  path,
  previousPath: null,
  status: 'modified',
  additions: lines.length,
  deletions: 0,
  blobSha: `blob-${path}`,
  addedLines: lines.map((text, i) => ({ line: i + 10, text })),
  ...patch,
});

const facts = (files: ChangedFile[], patch: Partial<PullRequestFacts> = {}): PullRequestFacts => ({
  repository: 'acme/web',
  number: 42,
  title: 'Update docs',
  url: 'https://github.com/acme/web/pull/42',
  author: 'docs-bot[bot]',
  headSha: 'a'.repeat(40),
  baseRef: 'main',
  draft: false,
  files,
  coAuthors: [],
  checks: [],
  ...patch,
});

const NOW = new Date('2026-11-27T12:00:00Z');

const org = orgConfigSchema.parse({
  approvers: [{ github: 'alice' }, { github: 'bob' }, { github: 'olivia' }],
  council: { members: ['alice', 'bob', 'carol'], quorum: 2, veto: true },
});

function run(
  tier: TierId,
  files: ChangedFile[],
  options: {
    policy?: PolicyFile;
    receipts?: ApprovalReceipt[];
    agent?: Partial<AgentRecord>;
    facts?: Partial<PullRequestFacts>;
  } = {},
) {
  const policy = resolvePolicy(options.policy ?? null, { source: 'test' });
  return evaluate(
    policy,
    tierCapabilities(EMPTY_ORG_CONFIG, tier),
    facts(files, options.facts),
    {
      agent: agent(tier, options.agent),
      receipts: options.receipts ?? [],
      org,
    },
    NOW,
  );
}

const fired = (d: ReturnType<typeof run>) => d.rules.filter((r) => r.status === 'fire').map((r) => r.rule);

describe('evaluate with the default template', () => {
  it.each([
    ['T1 docs change', 'T1', [file('docs/guide.md')], 'allow', []],
    ['T1 source change', 'T1', [file('src/app.ts')], 'deny', ['tier_paths']],
    [
      'T0 any change',
      'T0',
      [file('docs/guide.md')],
      'deny',
      ['agent_status', 'tier_paths', 'diff_size', 'human_review'],
    ],
    ['T2 source change', 'T2', [file('src/app.ts')], 'allow', []],
    ['T2 workflow change', 'T2', [file('.github/workflows/ci.yml')], 'require_approval', ['protected_paths']],
    ['T2 lock file change', 'T2', [file('package-lock.json')], 'require_approval', ['dependencies']],
    [
      'T2 governance config change',
      'T2',
      [file('.github/agent-governance.yml')],
      'deny',
      ['governance_config'],
    ],
    [
      'T2 AWS key',
      'T2',
      [file('src/config.ts', ['const key = "AKIAIOSFODNN7EXAMPLE";'])],
      'deny',
      ['secrets'],
    ],
    ['T1 too many lines', 'T1', [file('docs/a.md', Array(301).fill('x'))], 'require_approval', ['diff_size']],
  ] as const)('%s: %s', (_name, tier, files, outcome, rules) => {
    const d = run(tier, [...files]);
    expect(d.outcome).toBe(outcome);
    expect(fired(d)).toEqual(rules);
  });

  it('points at the exact line of a leaked secret and records a critical violation', () => {
    const d = run('T2', [
      file('src/config.ts', ['const ok = 1;', 'token: "ghp_abcdefghijklmnopqrstuvwxyz0123456789"']),
    ]);
    expect(d.rules.find((r) => r.rule === 'secrets')!.annotations).toEqual([
      {
        path: 'src/config.ts',
        startLine: 11,
        endLine: 11,
        level: 'failure',
        title: 'Secret in added line',
        message: 'looks like a GitHub token; remove it and rotate the credential',
      },
    ]);
    expect(d.violations).toEqual([
      {
        type: 'secret_exposure',
        severity: 'critical',
        details: 'secret(s) in added lines: `src/config.ts:11`',
      },
    ]);
  });

  it('denies every PR of a revoked or suspended agent', () => {
    for (const status of ['revoked', 'suspended'] as const) {
      const d = run('T4', [file('docs/a.md')], { agent: { status } });
      expect(d.outcome).toBe('deny');
      expect(d.violations.map((v) => v.type)).toEqual(['revoked_agent_activity']);
    }
  });

  it('fails closed on a file GitHub sent without a patch', () => {
    const d = run('T2', [file('src/huge.ts', [], { additions: 40000, addedLines: null })], {
      policy: { rules: { diff_size: { enabled: false } } },
    });
    expect(d.outcome).toBe('require_approval');
    expect(d.rules.find((r) => r.rule === 'secrets')!.summary).toMatch(/could not scan `src\/huge.ts`/);
  });

  it('treats a renamed file by both its paths', () => {
    const d = run('T1', [
      file('docs/moved.md', ['x'], { status: 'renamed', previousPath: 'src/secret-sauce.ts' }),
    ]);
    expect(fired(d)).toEqual(['tier_paths']);
  });

  it('never allows everything by accident: a policy that disables the rules it names still holds T1 to its paths', () => {
    const d = run('T1', [file('src/app.ts')], { policy: { rules: { protected_paths: { enabled: false } } } });
    expect(d.outcome).toBe('deny');
  });
});

describe('required checks', () => {
  const policy: PolicyFile = { rules: { required_checks: { checks: ['ci/test'] } } };
  it.each([
    ['not started', [], 'pending'],
    ['running', [{ name: 'ci/test', status: 'in_progress', conclusion: null }], 'pending'],
    ['passed', [{ name: 'ci/test', status: 'completed', conclusion: 'success' }], 'allow'],
    ['failed', [{ name: 'ci/test', status: 'completed', conclusion: 'failure' }], 'deny'],
  ] as const)('%s → %s', (_n, checks, outcome) => {
    expect(run('T2', [file('src/a.ts')], { policy, facts: { checks: [...checks] } }).outcome).toBe(outcome);
  });
});

describe('approvals are receipts bound to head, diff and policy', () => {
  const files = [file('.github/workflows/ci.yml')];
  const base = run('T2', files);
  const receipt = (approver: string, patch: Partial<ApprovalReceipt> = {}): ApprovalReceipt => ({
    approver,
    verdict: 'approve',
    gate: null,
    headSha: base.headSha,
    diffHash: base.diffHash,
    policyVersion: base.policyVersion,
    source: 'github_review',
    at: '2026-11-24T10:00:00.000Z',
    ...patch,
  });

  it('needs two approvals for the protected gate, from approvers other than the owner', () => {
    expect(run('T2', files, { receipts: [receipt('alice')] }).outcome).toBe('require_approval');
    expect(run('T2', files, { receipts: [receipt('alice'), receipt('olivia')] }).outcome).toBe(
      'require_approval',
    );
    const d = run('T2', files, { receipts: [receipt('alice'), receipt('bob')] });
    expect(d.outcome).toBe('allow');
    expect(d.summary).toBe('Approved by alice, bob');
  });

  it.each([
    ['another head commit', { headSha: 'b'.repeat(40) }],
    ['another diff', { diffHash: 'f'.repeat(64) }],
    ['another policy version', { policyVersion: 'old' }],
  ])('does not count an approval given for %s', (_n, patch) => {
    expect(run('T2', files, { receipts: [receipt('alice', patch), receipt('bob', patch)] }).outcome).toBe(
      'require_approval',
    );
  });

  it('does not count the agent, the PR author or a non-approver', () => {
    const d = run('T2', files, {
      receipts: [receipt('docs-bot[bot]'), receipt('mallory'), receipt('alice')],
    });
    expect(d.gates[0]!.approvedBy).toEqual(['alice']);
  });

  it('a rejection stops the PR, and the newest verdict of an approver counts', () => {
    expect(
      run('T2', files, { receipts: [receipt('alice'), receipt('bob', { verdict: 'reject' })] }).outcome,
    ).toBe('deny');
    const changedMind = [
      receipt('bob', { verdict: 'reject' }),
      receipt('bob', { at: '2026-11-24T11:00:00.000Z' }),
      receipt('alice'),
    ];
    expect(run('T2', files, { receipts: changedMind }).outcome).toBe('allow');
  });

  it('keeps approvals across pushes when the gate says so', () => {
    const policy: PolicyFile = { gates: { protected: { survive_push: true } } };
    const p = resolvePolicy(policy, { source: 't' });
    const receipts = [
      receipt('alice', { headSha: 'old', policyVersion: p.version }),
      receipt('bob', { headSha: 'old', policyVersion: p.version }),
    ];
    expect(run('T2', files, { policy, receipts }).outcome).toBe('allow');
  });

  it('does not count GitHub reviews for a gate that says so', () => {
    const policy: PolicyFile = { gates: { protected: { github_reviews: false } } };
    const p = resolvePolicy(policy, { source: 't' });
    const viaReview = [
      receipt('alice', { policyVersion: p.version }),
      receipt('bob', { policyVersion: p.version }),
    ];
    expect(run('T2', files, { policy, receipts: viaReview }).outcome).toBe('require_approval');
    const viaSlack = viaReview.map((r) => ({ ...r, source: 'slack' as const }));
    expect(run('T2', files, { policy, receipts: viaSlack }).outcome).toBe('allow');
  });

  it('a council gate needs its quorum and honours its veto', () => {
    const policy: PolicyFile = { extends: 'infra-protected' };
    const p = resolvePolicy(policy, { source: 't' });
    const r = (who: string, verdict: 'approve' | 'reject' = 'approve') =>
      receipt(who, { verdict, policyVersion: p.version });
    expect(run('T2', files, { policy, receipts: [r('alice')] }).outcome).toBe('require_approval');
    expect(run('T2', files, { policy, receipts: [r('alice'), r('carol')] }).outcome).toBe('allow');
    expect(run('T2', files, { policy, receipts: [r('alice'), r('carol'), r('bob', 'reject')] }).outcome).toBe(
      'deny',
    );
  });
});

describe('templates and extends', () => {
  it.each([
    ['strict', 'T2', [file('infra/main.tf')], 'require_approval'],
    ['strict', 'T2', [file('src/a.ts', Array(1600).fill('x'))], 'deny'],
    ['docs-only', 'T4', [file('src/app.ts')], 'deny'],
    ['docs-only', 'T2', [file('docs/x.mdx')], 'allow'],
    ['infra-protected', 'T3', [file('k8s/deploy.yaml')], 'require_approval'],
  ] as const)('%s, %s: %s', (template, tier, files, outcome) => {
    expect(run(tier, [...files], { policy: { extends: template } }).outcome).toBe(outcome);
  });

  it('uses the organisation policy when the repository has none, and layers a repository policy on it with extends: org', () => {
    const orgPolicy: PolicyFile = { extends: 'strict', rules: { protected_paths: { paths: ['secret/**'] } } };
    const inherited = resolvePolicy(null, { org: orgPolicy, source: 'org' });
    expect(inherited.rules.protected_paths.paths).toEqual(['secret/**']);
    expect(inherited.gates.default!.approvals).toBe(2);
    const layered = resolvePolicy(
      { extends: 'org', gates: { default: { approvals: 3 } } },
      { org: orgPolicy, source: 'repo' },
    );
    expect(layered.rules.protected_paths.paths).toEqual(['secret/**']);
    expect(layered.gates.default!.approvals).toBe(3);
    expect(layered.version).not.toBe(inherited.version);
  });
});

describe('policy files', () => {
  it.each([
    ['extends: lenient\n', '.github/agent-governance.yml:1:10: extends: Invalid input'],
    [
      'rules:\n  secrets:\n    action: allow\n',
      '.github/agent-governance.yml:3:13: rules.secrets.action: must be one of "deny", "require_approval"',
    ],
    [
      'rules:\n  secrets:\n    patterns: ["(unclosed"]\n',
      '.github/agent-governance.yml:3:16: rules.secrets.patterns[0]: not a pattern the linear-time engine (RE2) accepts: missing closing )',
    ],
    [
      'pipeline:\n  stages:\n    - type: gate\n      rules: [magic]\n',
      '.github/agent-governance.yml:4:15: pipeline.stages[0].rules[0]: must be one of',
    ],
  ])('explains %j', (text, message) => {
    const r = parsePolicyFile(text, '.github/agent-governance.yml');
    expect(r.ok).toBe(false);
    if (!r.ok)
      expect(
        `${r.problems[0]!.file}:${r.problems[0]!.line}:${r.problems[0]!.column}: ${r.problems[0]!.message}`,
      ).toContain(message);
  });
});

describe('facts helpers', () => {
  it('reads added lines with their new line numbers from a patch', () => {
    const patch =
      '@@ -1,3 +1,4 @@\n line one\n-old two\n+new two\n+new three\n line four\n@@ -20,2 +21,3 @@\n ctx\n+added at 22';
    expect(addedLinesOf(patch)).toEqual([
      { line: 2, text: 'new two' },
      { line: 3, text: 'new three' },
      { line: 22, text: 'added at 22' },
    ]);
  });

  it('reads Co-Authored-By trailers', () => {
    expect(
      coAuthorsOf('Fix docs\n\nCo-Authored-By: Claude <noreply@anthropic.com>\nco-authored-by: Bob <b@x.io>'),
    ).toEqual(['Claude <noreply@anthropic.com>', 'Bob <b@x.io>']);
  });

  it('keeps the diff hash across a push that changes nothing in the diff', () => {
    expect(diffHash(facts([file('a.md')]))).toBe(
      diffHash(facts([file('a.md')], { headSha: 'c'.repeat(40) })),
    );
    expect(diffHash(facts([file('a.md')]))).not.toBe(
      diffHash(facts([file('a.md', ['x'], { blobSha: 'other' })])),
    );
  });
});

describe('check run rendering', () => {
  it('renders a summary table and maps outcomes to conclusions that branch protection understands', () => {
    const d = run('T2', [file('.github/workflows/ci.yml')]);
    const r = renderCheckRun(d);
    expect(r).toMatchObject({ status: 'completed', conclusion: 'action_required' });
    expect(r.output.summary).toContain(
      '| `docs-bot` | authenticated (author docs-bot[bot]) | T2 builder | 1 files, 1 lines | test |',
    );
    expect(r.output.summary).toContain(
      '| gate | `protected_paths` | ✋ needs approval | protected path(s) changed: `.github/workflows/ci.yml` |',
    );
    expect(renderCheckRun(run('T2', [file('src/a.ts')])).conclusion).toBe('success');
    expect(renderCheckRun(run('T1', [file('src/a.ts')])).conclusion).toBe('failure');
    const pending = renderCheckRun(
      run('T2', [file('src/a.ts')], { policy: { rules: { required_checks: { checks: ['ci'] } } } }),
    );
    expect(pending.status).toBe('in_progress');
    expect(pending.conclusion).toBeUndefined();
  });
});

describe('separation of duties', () => {
  it('a council with distinct_teams counts one approval per team', () => {
    const teamOrg = orgConfigSchema.parse({
      approvers: [
        { github: 'alice', teams: ['platform'] },
        { github: 'bob', teams: ['platform'] },
        { github: 'carol', teams: ['security'] },
      ],
      council: { members: ['alice', 'bob', 'carol'], quorum: 2, veto: false, distinct_teams: true },
    });
    const policy = resolvePolicy({ extends: 'infra-protected' }, { source: 't' });
    const f = facts([file('infra/main.tf')]);
    const hash = diffHash(f);
    const r = (approver: string): ApprovalReceipt => ({
      approver,
      verdict: 'approve',
      gate: null,
      headSha: f.headSha,
      diffHash: hash,
      policyVersion: policy.version,
      source: 'slack',
      at: '2026-11-24T10:00:00.000Z',
    });
    const decide = (receipts: ApprovalReceipt[]) =>
      evaluate(
        policy,
        tierCapabilities(teamOrg, 'T3'),
        f,
        { agent: agent('T3'), receipts, org: teamOrg },
        NOW,
      );
    expect(decide([r('alice'), r('bob')]).outcome).toBe('require_approval');
    const d = decide([r('alice'), r('carol')]);
    expect(d.outcome).toBe('allow');
    expect(d.gates[0]!.approvedBy).toEqual(['alice', 'carol']);
  });
});
