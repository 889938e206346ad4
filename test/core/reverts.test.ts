import { describe, expect, it } from 'vitest';
import { pushedChanges, revertedCommits, revertedPullRequest, undoes } from '../../src/core/reverts.js';

const f = (path: string, status = 'modified', previousPath: string | null = null) => ({
  path,
  status,
  previousPath,
});

describe('what a revert names', () => {
  it('reads the PR a revert PR names in this repository, and the commits a git revert names', () => {
    expect(revertedPullRequest('Reverts octo/app#12\n\nbroke it', 'octo/app')).toBe(12);
    expect(revertedPullRequest('Reverts other/app#12', 'octo/app')).toBeNull();
    expect(revertedCommits(`Revert "x"\n\nThis reverts commit ${'a'.repeat(40)}.`)).toEqual(['a'.repeat(40)]);
  });
});

describe('whether a change undoes another', () => {
  it.each([
    ['the same files modified back', [f('docs/a.md')], [f('docs/a.md')], true],
    [
      'an added file removed',
      [f('src/new.ts', 'added'), f('a.md')],
      [f('src/new.ts', 'removed'), f('a.md')],
      true,
    ],
    ['a removed file added back', [f('old.ts', 'removed')], [f('old.ts', 'added')], true],
    ['a rename renamed back', [f('b.ts', 'renamed', 'a.ts')], [f('a.ts', 'renamed', 'b.ts')], true],
    [
      'a rename undone as a push (removed + added)',
      [f('b.ts', 'renamed', 'a.ts')],
      [f('b.ts', 'removed'), f('a.ts', 'added')],
      true,
    ],
    ['unrelated files', [f('docs/a.md')], [f('.github/workflows/ci.yml'), f('src/pay.ts', 'added')], false],
    ['some of the files only', [f('a.md'), f('b.md')], [f('a.md')], false],
    ['the files and more', [f('a.md')], [f('a.md'), f('src/pay.ts')], false],
    ['an added file modified instead of removed', [f('src/new.ts', 'added')], [f('src/new.ts')], false],
    ['nothing known of the original', [], [f('a.md')], false],
    ['a revert that changes nothing', [f('a.md')], [], false],
  ])('%s', (_name, original, revert, expected) => {
    expect(undoes(revert, original).undoes).toBe(expected);
  });

  it('says why not', () => {
    expect(undoes([f('src/pay.ts')], [f('docs/a.md')]).reason).toBe(
      'leaves docs/a.md as it was; changes src/pay.ts, which the original did not',
    );
  });

  it('reads a pushed commit’s lists', () => {
    expect(pushedChanges({ added: ['a'], removed: ['b'], modified: ['c'] })).toEqual([
      { path: 'a', status: 'added' },
      { path: 'b', status: 'removed' },
      { path: 'c', status: 'modified' },
    ]);
    expect(pushedChanges({})).toEqual([]);
  });
});
