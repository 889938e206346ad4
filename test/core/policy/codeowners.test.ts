import { describe, expect, it } from 'vitest';
import { ownerLineOf, parseCodeOwners } from '../../../src/core/policy/codeowners.js';

const owns = (pattern: string, path: string) =>
  ownerLineOf(parseCodeOwners(`${pattern} @x`, 'CODEOWNERS'), path) !== null;

describe('CODEOWNERS patterns match as GitHub matches them', () => {
  it.each([
    // A name with no slash matches at any depth, and everything under a directory of that name.
    [
      'foo',
      {
        foo: true,
        'foo.txt': false,
        'foo/bar': true,
        'bar/foo': true,
        'bar/foo/baz': true,
        'bar/baz': false,
      },
    ],
    ['/foo', { foo: true, 'foo/bar/baz': true, 'bar/foo': false, 'fool.txt': false }],
    ['foo/', { foo: false, 'foo/bar': true, 'bar/foo/baz': true, 'bar/foo': false }],
    ['/foo/', { 'foo/bar/baz': true, 'bar/foo/baz': false }],
    // A slash in the middle anchors at the root.
    ['foo/bar', { 'foo/bar': true, 'foo/bar/baz': true, 'foo/bart': false, 'baz/foo/bar': false }],
    ['*', { foo: true, 'a/b/c.rb': true }],
    ['f*', { foo: true, 'foo/bar': true, 'bar/foo/baz': true, xfoo: false, 'bar/baz': false }],
    ['/*', { foo: true, 'foo/bar': false }],
    ['/*/', { foo: false, 'foo/bar': true, 'bar/foo/baz': true }],
    // GitHub, unlike gitignore: `docs/*` owns direct children only.
    ['docs/*', { 'docs/getting-started.md': true, 'docs/build-app/troubleshooting.md': false, docs: false }],
    ['foo/*.txt', { 'foo/bar.txt': true, 'foo/bar/baz.txt': false, 'qux/foo/bar.txt': false }],
    ['foo/*/baz', { 'foo/bar/baz': true, 'foo/bar/baz/qux': true, 'foo/baz': false }],
    ['f?o', { foo: true, fo: false, fooo: false }],
    ['f\\*o', { 'f*o': true, foo: false }],
    ['**/logs', { logs: true, 'build/logs/x.log': true, 'a/b/logs': true, 'logs.txt': false }],
    ['**/*bar*', { bar: true, 'foo/rebar': true, 'foo/qux/barrio': true }],
    [
      'foo/bar/**',
      { 'foo/bar': false, 'foo/bar/baz': true, 'foo/bar/baz/qux': true, 'qux/foo/bar/baz': false },
    ],
    ['foo/**/bar', { 'foo/bar': true, 'foo/qux/bar/baz': true, 'foo/a/b/bar': true, 'qux/foo/bar': false }],
    ['*.js', { 'a.js': true, 'src/b.js': true, 'a.jsx': false }],
    ['/build/logs/', { 'build/logs/a.log': true, 'build/logs/deep/b.log': true, 'x/build/logs/a': false }],
    ['apps/', { 'apps/main.js': true, 'x/apps/y/z.js': true }],
    // Paths are case-sensitive; a dot is a dot, not any character.
    ['/Docs/', { 'Docs/a.md': true, 'docs/a.md': false }],
    ['*.md', { 'a.md': true, amd: false }],
  ])('%s', (pattern, paths) => {
    for (const [path, expected] of Object.entries(paths))
      expect(owns(pattern, path), `${pattern} ~ ${path}`).toBe(expected);
  });
});

describe('CODEOWNERS files', () => {
  const FILE = [
    '# This is a comment.',
    '*       @global-owner1 @global-owner2',
    '*.js    @js-owner #This is an inline comment.',
    '*.go docs@example.com',
    '*.txt @octo-org/octocats',
    '/apps/ @octocat',
    '/apps/github',
    '!secret.txt @nobody',
    '[ab].rb @nobody',
    'src/ not-an-owner @dev',
    '',
  ].join('\n');
  const parsed = parseCodeOwners(FILE, '.github/CODEOWNERS');
  const ownersOf = (path: string) => ownerLineOf(parsed, path)?.owners ?? null;

  it('the last matching line wins; inline comments are not owners', () => {
    expect(ownersOf('some/deep/file.rb')).toEqual(['@global-owner1', '@global-owner2']);
    expect(ownersOf('web/app.js')).toEqual(['@js-owner']);
    expect(ownersOf('notes.txt')).toEqual(['@octo-org/octocats']);
    expect(ownersOf('main.go')).toEqual(['docs@example.com']);
    expect(ownersOf('apps/main.rb')).toEqual(['@octocat']);
  });

  it('a matching line without owners leaves the path with none (not the earlier owners)', () => {
    expect(ownerLineOf(parsed, 'apps/github/index.rb')).toMatchObject({ line: 7, owners: [] });
  });

  it('no matching line at all: null', () => {
    expect(ownerLineOf(parseCodeOwners('/docs/ @a\n', 'CODEOWNERS'), 'src/a.ts')).toBeNull();
  });

  it('skips what GitHub does not support, and says so with the line', () => {
    expect(parsed.problems).toEqual([
      '.github/CODEOWNERS:8: "!secret.txt" uses gitignore syntax CODEOWNERS does not support (! [ ] \\#): line skipped',
      '.github/CODEOWNERS:9: "[ab].rb" uses gitignore syntax CODEOWNERS does not support (! [ ] \\#): line skipped',
      '.github/CODEOWNERS:10: "not-an-owner" is not an owner (@user, @org/team or an email): ignored',
    ]);
    expect(ownersOf('src/x.ts')).toEqual(['@dev']);
  });

  it('a pattern that makes a backtracking RegExp run for ages is answered (RE2, linear time)', () => {
    const hostile = parseCodeOwners(`${'*a'.repeat(200)}b @x\n`, 'CODEOWNERS');
    expect(ownerLineOf(hostile, 'a'.repeat(5000))).toBeNull();
  });
});
