import { describe, expect, it } from 'vitest';
import type { AgentRecord } from '../../../src/core/agent.js';
import { EMPTY_ORG_CONFIG, tierCapabilities } from '../../../src/core/org-config.js';
import {
  addedLinesOf,
  type ChangedFile,
  evaluate,
  type PolicyFile,
  parsePolicyFile,
  resolvePolicy,
} from '../../../src/core/policy/index.js';

const KEY = 'AKIAIOSFODNN7EXAMPLE';

const agent: AgentRecord = {
  id: 'builder-bot',
  name: 'Builder Bot',
  owner: 'olivia',
  tier: 'T3',
  status: 'active',
  identities: { githubLogins: ['builder-bot[bot]'], trailers: [] },
  tokenHash: null,
  registeredAt: '2026-01-01T00:00:00.000Z',
  tierSince: '2026-01-01T00:00:00.000Z',
};

/** A file as GitHub lists it: `patch` undefined when GitHub sent none. */
function file(
  path: string,
  patch: string | undefined,
  extra: Partial<ChangedFile> & { additions?: number } = {},
): ChangedFile {
  const addedLines = patch === undefined ? null : addedLinesOf(patch);
  return {
    path,
    previousPath: null,
    status: 'modified',
    additions: addedLines?.length ?? 0,
    deletions: 0,
    blobSha: `blob-${path}`,
    addedLines,
    ...extra,
  };
}

function secretsRule(files: ChangedFile[], policy: PolicyFile | null = null) {
  const resolved = resolvePolicy(policy, { source: 'test' });
  const decision = evaluate(
    resolved,
    tierCapabilities(EMPTY_ORG_CONFIG, 'T3'),
    {
      repository: 'acme/web',
      number: 7,
      title: 't',
      url: 'https://github.com/acme/web/pull/7',
      author: 'builder-bot[bot]',
      headSha: 'a'.repeat(40),
      baseRef: 'main',
      draft: false,
      files,
      coAuthors: [],
      checks: [],
    },
    { agent, receipts: [], org: EMPTY_ORG_CONFIG },
    new Date('2026-11-27T12:00:00Z'),
  );
  return { decision, rule: decision.rules.find((r) => r.rule === 'secrets')! };
}

describe('addedLinesOf reads every added line of every hunk', () => {
  it.each([
    [
      'an added line that itself starts with ++',
      `@@ -1,1 +1,2 @@\n int i = 0;\n+++i; const k = "${KEY}";`,
      [{ line: 2, text: `++i; const k = "${KEY}";` }],
    ],
    [
      'an added line that starts with ++ followed by a space, like a file header',
      '@@ -0,0 +1,2 @@\n+++ b/looks-like-a-header\n+--- a/also-content',
      [
        { line: 1, text: '++ b/looks-like-a-header' },
        { line: 2, text: '--- a/also-content' },
      ],
    ],
    [
      'a removed line that starts with -- inside a hunk is not a header either',
      '@@ -5,2 +5,2 @@\n---i;\n+++j;\n ctx',
      [{ line: 5, text: '++j;' }],
    ],
    [
      'git diff headers before the first hunk are not content',
      '--- a/src/x.ts\n+++ b/src/x.ts\n@@ -1 +1 @@\n-old\n+new',
      [{ line: 1, text: 'new' }],
    ],
    [
      'two hunks, the second after a no-newline marker',
      '@@ -1,1 +1,1 @@\n-a\n\\ No newline at end of file\n+++a\n@@ -10,0 +10,1 @@\n++++b',
      [
        { line: 1, text: '++a' },
        { line: 10, text: '+++b' },
      ],
    ],
  ])('%s', (_name, patch, expected) => {
    expect(addedLinesOf(patch)).toEqual(expected);
  });
});

describe('the secrets rule', () => {
  it('finds a key on an added line that begins with ++', () => {
    const { decision, rule } = secretsRule([
      file('src/loop.ts', `@@ -1,1 +1,2 @@\n for (;;) {\n+++i; const k = "${KEY}";`),
    ]);
    expect(decision.outcome).toBe('deny');
    expect(rule.annotations).toEqual([
      {
        path: 'src/loop.ts',
        startLine: 2,
        endLine: 2,
        level: 'failure',
        title: 'Secret in added line',
        message: 'looks like a AWS access key id; remove it and rotate the credential',
      },
    ]);
  });

  // What GitHub sends without a `patch`: binary files come with 0 additions and 0 changes, too
  // large ones with their counts, pure renames and copies with 0 of everything.
  it.each([
    ['an added binary file', file('certs/key.p12', undefined, { status: 'added' })],
    ['a modified binary file', file('assets/logo.png', undefined)],
    ['a file too large for a patch', file('src/huge.ts', undefined, { additions: 40000 })],
    [
      'a renamed file without a patch',
      file('lib/moved.bin', undefined, { status: 'renamed', previousPath: 'lib/old.bin' }),
    ],
    [
      'a copied file without a patch',
      file('lib/copy.bin', undefined, { status: 'copied', previousPath: 'lib/orig.bin' }),
    ],
    ['a mode change without a patch', file('bin/run', undefined, { status: 'changed' })],
    [
      'a patch that shows fewer added lines than GitHub counted',
      file('src/cut.ts', '@@ -0,0 +1,1 @@\n+one', { additions: 3 }),
    ],
  ])('holds %s for a person, naming it on the check', (_name, f) => {
    const { decision, rule } = secretsRule([f]);
    expect(rule).toMatchObject({ status: 'fire', action: 'require_approval', gate: 'default' });
    expect(rule.summary).toContain(`could not scan \`${f.path}\``);
    expect(rule.annotations).toEqual([
      expect.objectContaining({ path: f.path, level: 'warning', title: 'Not scanned for secrets' }),
    ]);
    expect(decision.outcome).toBe('require_approval');
    expect(decision.violations).toEqual([]);
  });

  it('lets the policy deny unscanned files instead, without charging a secret to the agent', () => {
    const { decision, rule } = secretsRule([file('certs/key.p12', undefined, { status: 'added' })], {
      rules: { secrets: { unscanned: 'deny' } },
    });
    expect(rule).toMatchObject({ status: 'fire', action: 'deny' });
    expect(decision.outcome).toBe('deny');
    expect(decision.violations).toEqual([]);
  });

  it('reports unscanned files next to a secret it found', () => {
    const { rule } = secretsRule([
      file('src/a.ts', `@@ -0,0 +1 @@\n+const k = "${KEY}";`),
      file('certs/key.p12', undefined, { status: 'added' }),
    ]);
    expect(rule).toMatchObject({ status: 'fire', action: 'deny', violation: 'secret_exposure' });
    expect(rule.summary).toContain('could not scan `certs/key.p12`');
    expect(rule.annotations.map((a) => `${a.path}:${a.level}`)).toEqual([
      'src/a.ts:failure',
      'certs/key.p12:warning',
    ]);
  });

  it.each([
    [`const k = "${KEY}";`, 'AWS access key id'],
    ['API_KEY = "abcdefghijklmnop"', 'hard-coded credential'],
    ["Password: 'correct-horse-battery'", 'hard-coded credential'],
    ['access-token="0123456789abcdef"', 'hard-coded credential'],
    ['slack: xoxb-1234567890-abcdefghij', 'Slack token'],
    ['-----BEGIN OPENSSH PRIVATE KEY-----', 'private key'],
  ])('the built-in patterns, run by RE2, still find %j', (text, name) => {
    const { rule } = secretsRule([file('src/a.ts', `@@ -0,0 +1 @@\n+${text}`)]);
    expect(rule.annotations.map((a) => a.message)).toEqual([
      `looks like a ${name}; remove it and rotate the credential`,
    ]);
  });

  it('passes removed files and a diff whose every file it read', () => {
    const { rule } = secretsRule([
      file('old.bin', undefined, { status: 'removed' }),
      file('src/ok.ts', '@@ -1 +1 @@\n-a\n+b'),
    ]);
    expect(rule).toMatchObject({ status: 'pass', summary: 'no secret in added lines' });
  });
});

describe('policy secret patterns run in a linear-time engine', () => {
  const CATASTROPHIC = 'internal-([0-9a-f]+)+-key';

  it('scans a 1 MB diff with a catastrophic pattern and finds the one real hit', () => {
    const miss = `internal-${'0123456789abcdef'.repeat(4)}-kex`;
    const lines: string[] = [];
    while (lines.length * (miss.length + 2) < 1024 * 1024) lines.push(`+${miss}`);
    lines.push('+token = internal-00ff-key');
    const patch = `@@ -0,0 +1,${lines.length} @@\n${lines.join('\n')}`;
    expect(patch.length).toBeGreaterThan(1024 * 1024);
    const { rule } = secretsRule([file('src/big.ts', patch)], {
      rules: { secrets: { patterns: [CATASTROPHIC] } },
    });
    expect(rule.annotations.map((a) => `${a.path}:${a.startLine}: ${a.message}`)).toEqual([
      `src/big.ts:${lines.length}: looks like a policy pattern 1; remove it and rotate the credential`,
    ]);
  });

  it.each([
    ['a backreference', '(a)\\1'],
    ['a lookahead', 'key(?=[0-9])'],
    ['a lookbehind', '(?<=token=)\\w+'],
  ])('refuses %s, naming the line of the pattern', (_name, pattern) => {
    const text = `rules:\n  secrets:\n    patterns:\n      - "ok-[0-9]+"\n      - ${JSON.stringify(pattern)}\n`;
    const r = parsePolicyFile(text, 'p.yml');
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.problems).toHaveLength(1);
      expect(r.problems[0]).toMatchObject({ file: 'p.yml', line: 5, column: 9 });
      expect(r.problems[0]!.message).toMatch(
        /^rules\.secrets\.patterns\[1\]: not a pattern the linear-time engine \(RE2\) accepts: /,
      );
    }
  });
});
