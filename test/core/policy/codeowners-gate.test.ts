/**
 * `approvers: codeowners` gates, as a table over the pure core: for each changed path, one
 * approval from one of its owners; the agent, the PR's requester and anyone unmapped never count;
 * a path without an owner means nobody can approve the gate.
 */
import { describe, expect, it } from 'vitest';
import type { AgentRecord } from '../../../src/core/agent.js';
import { EMPTY_ORG_CONFIG, orgConfigSchema, tierCapabilities } from '../../../src/core/org-config.js';
import type { CodeOwnersFacts } from '../../../src/core/policy/code-owner-groups.js';
import {
  type ApprovalReceipt,
  type ChangedFile,
  diffHash,
  evaluate,
  type PullRequestFacts,
  parsePolicyFile,
  renderCheckRun,
  resolvePolicy,
} from '../../../src/core/policy/index.js';

const NOW = new Date('2026-11-27T12:00:00Z');
const HEAD = 'a'.repeat(40);

const agent: AgentRecord = {
  id: 'builder-bot',
  name: 'Builder',
  owner: 'olivia',
  tier: 'T2',
  status: 'active',
  identities: { githubLogins: ['builder-bot[bot]'], trailers: [] },
  tokenHash: null,
  registeredAt: '2026-01-01T00:00:00.000Z',
  tierSince: '2026-01-01T00:00:00.000Z',
};

const org = orgConfigSchema.parse({
  approvers: [
    { github: 'alice' },
    { github: 'bob' },
    { github: 'carol' },
    { github: 'olivia' },
    { github: 'Dave' },
  ],
});

const POLICY = parsePolicyFile(
  [
    'rules:',
    '  protected_paths: { paths: ["**"], action: require_approval, gate: owners }',
    'gates:',
    '  owners: { approvers: codeowners, allow_owner: false }',
    '',
  ].join('\n'),
  'policy.yml',
);

const CODEOWNERS = [
  '*            @acme/platform',
  '/api/        @alice @bob',
  '/docs/       @carol',
  '/secrets/    @acme/security',
  '/vendor/',
  '/bots/       @builder-bot[bot] @olivia',
  '/mail/       ops@example.com @mallory',
  '',
].join('\n');

const owners = (patch: Partial<CodeOwnersFacts> = {}): CodeOwnersFacts => ({
  file: '.github/CODEOWNERS',
  text: CODEOWNERS,
  teams: { 'acme/platform': ['dave', 'erin'], 'acme/security': { unknown: 'not readable (404)' } },
  ...patch,
});

const file = (path: string): ChangedFile => ({
  path,
  previousPath: null,
  status: 'modified',
  additions: 1,
  deletions: 0,
  blobSha: `blob-${path}`,
  addedLines: [{ line: 1, text: 'x' }],
});

function run(
  paths: string[],
  votes: [string, 'approve' | 'reject'][] = [],
  patch: Partial<PullRequestFacts> = {},
) {
  if (!POLICY.ok) throw new Error('bad policy');
  const policy = resolvePolicy(POLICY.value, { source: 'test' });
  const facts: PullRequestFacts = {
    repository: 'acme/web',
    number: 7,
    title: 't',
    url: 'u',
    author: 'builder-bot[bot]',
    headSha: HEAD,
    baseRef: 'main',
    draft: false,
    files: paths.map(file),
    coAuthors: [],
    checks: [],
    codeOwners: owners(),
    ...patch,
  };
  const receipts: ApprovalReceipt[] = votes.map(([approver, verdict]) => ({
    approver,
    verdict,
    gate: null,
    headSha: HEAD,
    diffHash: diffHash(facts),
    policyVersion: policy.version,
    source: 'slack',
    at: NOW.toISOString(),
  }));
  const decision = evaluate(
    policy,
    tierCapabilities(EMPTY_ORG_CONFIG, 'T2'),
    facts,
    { agent, receipts, org },
    NOW,
  );
  return { decision, gate: decision.gates[0]!, check: renderCheckRun(decision).output.summary };
}

describe('a code-owners gate needs an owner of every changed path', () => {
  it('names the paths still missing an owner and who may give it', () => {
    const { decision, gate } = run(['api/a.ts', 'api/b.ts', 'docs/x.md']);
    expect(decision.outcome).toBe('require_approval');
    expect(gate.tally.description).toBe(
      "gate `owners` needs a code owner's approval for `api/a.ts`, `api/b.ts` (from alice, bob); `docs/x.md` (from carol)",
    );
    expect(gate.tally.mayApprove).toEqual(['alice', 'bob', 'carol']);
  });

  it("one owner's approval covers their paths only; the rest are still named", () => {
    const { decision, gate, check } = run(['api/a.ts', 'docs/x.md'], [['bob', 'approve']]);
    expect(decision.outcome).toBe('require_approval');
    expect(gate.tally.description).toBe(
      "gate `owners` needs a code owner's approval for `docs/x.md` (from carol)",
    );
    expect(check).toContain('  - still needs a code owner of `docs/x.md`: one of carol');
  });

  it('passes once every path has an approval from one of its owners', () => {
    const { decision } = run(
      ['api/a.ts', 'docs/x.md'],
      [
        ['bob', 'approve'],
        ['carol', 'approve'],
      ],
    );
    expect(decision.outcome).toBe('allow');
  });

  it('a team is expanded to its members, mapped to people as other approvers are (case-insensitively)', () => {
    const { decision, gate } = run(['src/app.ts'], [['dave', 'approve']]);
    expect(gate.codeOwners).toEqual([
      {
        paths: ['src/app.ts'],
        owners: ['Dave'],
        unmapped: ['@erin of @acme/platform (not an approver of the organisation config)'],
        why: null,
      },
    ]);
    expect(decision.outcome).toBe('allow');
  });

  it('someone who owns none of the changed paths is not counted, and says why', () => {
    const { decision, gate } = run(['docs/x.md'], [['alice', 'approve']]);
    expect(decision.outcome).toBe('require_approval');
    expect(gate.tally.notCounted).toEqual([
      { approver: 'alice', reason: 'not a code owner of any changed path (gate `owners`)' },
    ]);
  });

  it('the agent never counts, nor its owner where the gate forbids it, even when CODEOWNERS names them', () => {
    const { decision, gate } = run(
      ['bots/run.ts'],
      [
        ['builder-bot[bot]', 'approve'],
        ['olivia', 'approve'],
      ],
    );
    expect(decision.outcome).toBe('require_approval');
    expect(gate.tally.state).toBe('unreachable');
    expect(gate.tally.notCounted.map((n) => n.reason)).toEqual([
      'an agent never approves',
      "the agent's owner may not approve this gate",
    ]);
  });

  it("the PR's requester never counts, even as the path's only owner", () => {
    const { gate } = run(['docs/x.md'], [['carol', 'approve']], { author: 'carol' });
    expect(gate.tally.state).toBe('unreachable');
    expect(gate.tally.notCounted).toEqual([
      { approver: 'carol', reason: 'the author of a pull request never approves it' },
    ]);
  });

  it.each([
    ['a line that names no owner', ['vendor/lib.c'], '.github/CODEOWNERS:5 (`/vendor/`) names no owner'],
    [
      'a team that cannot be read',
      ['secrets/k.txt'],
      'no owner .github/CODEOWNERS:4 (`/secrets/`) names may approve: @acme/security (not readable (404))',
    ],
    [
      'owners that are an email and an unmapped login',
      ['mail/x'],
      'no owner .github/CODEOWNERS:7 (`/mail/`) names may approve: ops@example.com (an email: name the GitHub login), @mallory (not an approver of the organisation config)',
    ],
  ])('fails closed on %s: nobody can approve, and the check says so', (_what, paths, why) => {
    const { decision, gate, check } = run(paths, [['alice', 'approve']]);
    expect(decision.outcome).toBe('require_approval');
    expect(gate.tally.state).toBe('unreachable');
    expect(gate.tally.description).toBe(
      `gate \`owners\` cannot be approved: nobody may approve \`${paths[0]}\`: ${why}`,
    );
    expect(check).toContain(`  - nobody may approve \`${paths[0]}\`: ${why}`);
  });

  it('fails closed without a CODEOWNERS file, and with one that matches nothing', () => {
    expect(
      run(['api/a.ts'], [], { codeOwners: owners({ file: null, text: null }) }).gate.tally.description,
    ).toBe(
      'gate `owners` cannot be approved: nobody may approve `api/a.ts`: no CODEOWNERS file on the default branch',
    );
    expect(
      run(['x.ts'], [], { codeOwners: owners({ text: '/docs/ @carol\n' }) }).gate.tally.description,
    ).toContain('nobody may approve `x.ts`: no line of .github/CODEOWNERS matches it');
  });

  it('a renamed file needs the owners of its old path too', () => {
    const { gate } = run([], [], {
      files: [{ ...file('docs/moved.md'), previousPath: 'api/old.ts', status: 'renamed' }],
    });
    expect(gate.tally.missingOwners.map((m) => m.paths)).toEqual([['api/old.ts'], ['docs/moved.md']]);
  });

  it('a reject from an owner rejects', () => {
    expect(run(['api/a.ts'], [['alice', 'reject']]).decision.outcome).toBe('deny');
  });

  it('a gate cannot be both the council and code owners', () => {
    const r = parsePolicyFile('gates:\n  g: { council: true, approvers: codeowners }\n', 'p.yml');
    expect(r.ok).toBe(false);
  });
});
