import { describe, expect, it } from 'vitest';
import { renderStricterAtCommit, stricterAtCommit } from '../../src/core/policy/commit-check.js';

const pr = (number: number, outcome: string) => ({ number, outcome, summary: `PR ${number} is ${outcome}` });

describe('the check of a commit several PRs share', () => {
  it.each([
    // own, other, what the check shows (null: the PR's own render)
    ['allow', 'require_approval', 'action_required'],
    ['allow', 'deny', 'failure'],
    ['not_agent', 'require_approval', 'action_required'],
    ['not_agent', 'allow', 'success'],
    ['allow', 'pending', 'in_progress'],
    ['require_approval', 'deny', 'failure'],
    ['allow', 'some_future_outcome', 'failure'],
    ['require_approval', 'allow', null],
    ['deny', 'require_approval', null],
    ['allow', 'not_agent', null],
    ['require_approval', 'require_approval', null],
  ] as const)('own %s, another PR %s → %s', (own, other, shows) => {
    const stricter = stricterAtCommit(pr(1, own), [pr(2, other)]);
    if (shows === null) return expect(stricter).toBeNull();
    const render = renderStricterAtCommit(pr(1, own), stricter!, [pr(2, other)]);
    expect(render.conclusion ?? render.status).toBe(shows);
    expect(render.output.title).toBe(`PR #2 at this commit: PR 2 is ${other}`);
  });

  it('takes the strictest of several and lists every PR, a summary unable to break the table', () => {
    const others = [pr(3, 'require_approval'), { ...pr(4, 'deny'), summary: 'a | b\nc' }, pr(5, 'allow')];
    const stricter = stricterAtCommit(pr(2, 'allow'), others);
    expect(stricter?.number).toBe(4);
    const { summary } = renderStricterAtCommit(pr(2, 'allow'), stricter!, others).output;
    expect(summary).toContain('| #4 | deny | a \\| b c |');
    expect(summary.match(/^\| #\d/gm)).toHaveLength(4);
  });
});
