import { describe, expect, it } from 'vitest';
import { formatProblem } from '../../../src/core/parse-yaml.js';
import { resolveWithOrg } from '../../../src/core/policy/enforce-policy.js';
import { parsePolicyFile } from '../../../src/core/policy/load-policy.js';
import { globWithin } from '../../../src/core/policy/policy-looseness.js';

const NAMES = {
  repo: 'acme/web:.github/agent-governance.yml',
  org: 'acme/.github:.github/agent-governance.yml',
  source: 'acme/web',
};

const ORG = `
rules:
  protected_paths: { enforced: true, paths: ["secure/**", ".github/**"], action: require_approval, gate: security }
  diff_size: { enforced: true, max_files: 100, max_lines: 2000, action: require_approval, gate: default }
  tier_paths: { enforced: true, allowed: { T1: ["docs/**"], T2: ["src/**", "docs/**"] } }
  secrets: { enforced: true, patterns: ["acme-[0-9a-f]{32}"], unscanned: deny }
  dependencies: { enforced: true }
  required_checks: { enforced: true, checks: ["ci/test"] }
gates:
  security: { enforced: true, approvals: 2, approvers: [alice, bob, carol], allow_owner: false, expiry_hours: 24 }
`;

function parse(text: string, file: string) {
  const r = parsePolicyFile(text, file);
  if (!r.ok) throw new Error(r.problems.map(formatProblem).join('\n'));
  return r.value;
}

function resolve(repo: string | null, org = ORG) {
  return resolveWithOrg(repo === null ? null : parse(repo, NAMES.repo), parse(org, NAMES.org), NAMES);
}

/** The problems of a repository file that must be refused. */
function refused(repo: string): string[] {
  const r = resolve(repo);
  if (r.ok) throw new Error('expected the repository file to be refused');
  return r.problems;
}

describe('a repository cannot loosen what its organisation enforces', () => {
  it.each([
    [
      'a larger limit',
      'rules: { diff_size: { max_files: 500 } }',
      'rules.diff_size.max_files: 500 instead of 100: a larger limit (or none) is looser',
    ],
    [
      'turning the rule off',
      'rules: { protected_paths: { enabled: false } }',
      'rules.protected_paths.enabled: false instead of true: turning the rule off is looser',
    ],
    [
      'holding instead of denying',
      'rules: { secrets: { unscanned: require_approval } }',
      'rules.secrets.unscanned: "require_approval" instead of "deny"',
    ],
    [
      'a protected path left out',
      'rules: { protected_paths: { paths: [".github/**"] } }',
      'leaving out a protected path is looser (missing ["secure/**"])',
    ],
    [
      'a secret pattern left out',
      'rules: { secrets: { patterns: [] } }',
      'leaving out a secret pattern is looser (missing ["acme-[0-9a-f]{32}"])',
    ],
    [
      'a required check left out',
      'rules: { required_checks: { checks: ["ci/lint"] } }',
      'leaving out a required check is looser (missing ["ci/test"])',
    ],
    [
      'a superset of allowed paths',
      'rules: { tier_paths: { allowed: { T1: ["docs/**", "src/**"] } } }',
      'T1 may change ["src/**"], outside ["docs/**"]',
    ],
    [
      'allowed paths for a tier the organisation leaves to its capabilities',
      'rules: { tier_paths: { allowed: { T3: ["**"] } } }',
      'T3 is left to its tier capabilities by the organisation',
    ],
    ['fewer approvals', 'gates: { security: { approvals: 1 } }', 'gates.security: approvals 1 < 2'],
    [
      'more approvers',
      'gates: { security: { approvers: [alice, mallory] } }',
      'approvers ["mallory"] who are not among ["alice","bob","carol"]',
    ],
    [
      'every approver instead of named ones',
      'gates: { security: { approvers: [] } }',
      'every approver of the organisation config instead of ["alice","bob","carol"]',
    ],
    [
      'a later deadline and the owner allowed',
      'gates: { security: { expiry_hours: 100, allow_owner: true } }',
      "the agent's owner may approve; expiry_hours 100 > 24 (a later deadline)",
    ],
    [
      'approvals that survive a push',
      'gates: { security: { survive_push: true } }',
      'gates.security: approvals survive a push',
    ],
  ])('%s is refused, naming the rule and both values', (_what, repo, message) => {
    const problems = refused(repo);
    expect(problems.join('\n')).toContain(message);
    expect(
      problems.every(
        (p) => p.startsWith(`${NAMES.repo}: `) && p.endsWith(`looser than ${NAMES.org} enforces`),
      ),
    ).toBe(true);
  });

  it('removing the rule from the pipeline is refused', () => {
    const problems = refused(`
pipeline:
  stages:
    - { type: execute, rules: [tier_paths, secrets] }
    - { type: gate, rules: [protected_paths, diff_size, required_checks] }
`);
    expect(problems).toEqual([
      `${NAMES.repo}: rules.dependencies: the pipeline does not run it (leaving an enforced rule out is looser), looser than ${NAMES.org} enforces`,
    ]);
  });

  it('renaming: pointing the rule at a looser gate of its own is refused', () => {
    const problems = refused(`
rules: { protected_paths: { gate: lax } }
gates: { lax: { approvals: 1 } }
`);
    expect(problems).toEqual([
      `${NAMES.repo}: rules.protected_paths.gate: gate \`lax\` instead of \`security\`: approvals 1 < 2; every approver of the organisation config instead of ["alice","bob","carol"]; the agent's owner may approve; expiry_hours 72 > 24 (a later deadline), looser than ${NAMES.org} enforces`,
    ]);
  });

  it('a rule the organisation holds for an enforced gate cannot be moved to a looser one, even if not enforced itself', () => {
    const org = `${ORG}  \nrules_extra: {}\n`.replace('rules_extra: {}\n', '');
    const withHuman = `${org.replace('rules:\n', 'rules:\n  human_review: { gate: security }\n')}`;
    const r = resolveWithOrg(
      parse('rules: { human_review: { gate: default } }', NAMES.repo),
      parse(withHuman, NAMES.org),
      NAMES,
    );
    expect(r.ok).toBe(false);
    if (!r.ok)
      expect(r.problems.join('\n')).toContain(
        'rules.human_review.gate: gate `default` instead of `security`',
      );
  });

  it('`enforced: false` in the repository file is refused: only the organisation releases a rule', () => {
    expect(refused('rules: { diff_size: { enforced: false } }')).toEqual([
      `${NAMES.repo}: rules.diff_size.enforced: false: ${NAMES.org} enforces rules.diff_size; only that file can release it`,
    ]);
    expect(refused('gates: { security: { enforced: false } }')[0]).toContain(
      'gates.security.enforced: false',
    );
  });

  it('extends tricks: a template or `extends: org` the repository names cannot undo an enforced rule', () => {
    for (const parent of ['default', 'strict', 'docs-only', 'infra-protected', 'org']) {
      const r = resolve(`extends: ${parent}\n`);
      if (!r.ok) throw new Error(r.problems.join('\n'));
      expect(r.policy.rules.diff_size.max_files, parent).toBe(100);
      expect(r.policy.rules.protected_paths.paths, parent).toEqual(['secure/**', '.github/**']);
      expect(r.policy.gates.security?.approvals, parent).toBe(2);
      expect(r.policy.rules.required_checks.checks, parent).toEqual(['ci/test']);
    }
  });

  it('a repository without its own file is judged by the organisation file, enforced or not', () => {
    const r = resolve(null);
    if (!r.ok) throw new Error(r.problems.join('\n'));
    expect(r.policy.rules.diff_size.max_files).toBe(100);
    expect(r.policy.origins.rules.diff_size).toBe(NAMES.org);
  });
});

describe('a repository may tighten what its organisation enforces', () => {
  it('smaller limits, more protected paths and checks, fewer allowed paths, a stricter gate', () => {
    const r = resolve(`
extends: strict
rules:
  diff_size: { max_files: 20, action: deny }
  protected_paths: { paths: ["secure/**", ".github/**", "infra/**"] }
  tier_paths: { allowed: { T2: ["src/api/**"] } }
  secrets: { patterns: ["acme-[0-9a-f]{32}", "other-[0-9]{8}"] }
  required_checks: { checks: ["ci/test", "ci/lint"] }
gates:
  security: { approvals: 3, approvers: [alice, bob], expiry_hours: 12, github_reviews: false }
`);
    if (!r.ok) throw new Error(r.problems.join('\n'));
    expect(r.policy.rules.diff_size).toMatchObject({ max_files: 20, max_lines: 2000, action: 'deny' });
    expect(r.policy.gates.security).toMatchObject({ approvals: 3, approvers: ['alice', 'bob'] });
  });

  it('says for each rule which file it came from', () => {
    const r = resolve('extends: strict\nrules: { diff_size: { max_files: 20 } }\n');
    if (!r.ok) throw new Error(r.problems.join('\n'));
    expect(r.policy.origins.rules).toMatchObject({
      diff_size: NAMES.repo,
      protected_paths: `${NAMES.org} (enforced)`,
      dependencies: `${NAMES.org} (enforced)`,
      human_review: 'built-in template default',
    });
    expect(r.policy.origins.gates.default).toBe('built-in template strict');
    // The gate an enforced rule holds for is compared, never replaced: strict's stays stricter.
    expect(r.policy.gates.default?.approvals).toBe(2);
  });

  it('without anything enforced, a repository file that does not extend org is its own, as before', () => {
    const r = resolve('rules: { diff_size: { max_files: 999 } }', 'rules: { diff_size: { max_files: 5 } }');
    if (!r.ok) throw new Error(r.problems.join('\n'));
    expect(r.policy.rules.diff_size.max_files).toBe(999);
  });
});

describe('globWithin decides containment only where it is certain', () => {
  it.each([
    ['src/api/**', 'src/**', true],
    ['src/a.ts', 'src/**', true],
    ['anything/**', '**', true],
    ['src/**', 'src/**', true],
    ['src2/**', 'src/**', false],
    ['**/*.md', 'docs/**', false],
    ['src/**', 'src/*.ts', false],
    ['src/x', '{src,lib}/**', false],
  ])('%s within %s: %s', (inner, outer, within) => {
    expect(globWithin(inner, outer)).toBe(within);
  });
});
