import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { approvalKeyOf, isApprovalKey, parseApprovalKey } from '../../src/core/approval-key.js';

const SHA = 'a'.repeat(40);

describe('an approval key', () => {
  it('keeps the format the ledger and Slack buttons already hold', () => {
    expect(approvalKeyOf({ repository: 'Codertocat/Hello-World', number: 2, headSha: SHA })).toBe(
      `Codertocat/Hello-World#2@${SHA}`,
    );
    expect(parseApprovalKey(`Codertocat/Hello-World#2@${SHA}`)).toEqual({
      repository: 'Codertocat/Hello-World',
      number: 2,
      headSha: SHA,
    });
    // A SHA-256 repository's commits are 64 hex characters; dots, dashes and underscores are GitHub's.
    const sha256 = 'f'.repeat(64);
    expect(parseApprovalKey(`my-org/repo.name_2#12345@${sha256}`)).toEqual({
      repository: 'my-org/repo.name_2',
      number: 12345,
      headSha: sha256,
    });
  });
});

describe('a forged value', () => {
  it.each([
    ['an empty value', ''],
    ['no @', `acme/web#7${SHA}`],
    ['no #', `acme/web7@${SHA}`],
    ['an extra @ after the commit', `acme/web#7@${SHA}@${'b'.repeat(40)}`],
    ['an extra @ in the repository', `acme/web@x#7@${SHA}`],
    ['an extra # in the repository', `acme/web#1#7@${SHA}`],
    ['another PR smuggled into the repository', `acme/web#1@${SHA}/x#7@${SHA}`],
    ['a repository without an owner', `web#7@${SHA}`],
    ['a repository with a path', `acme/web/extra#7@${SHA}`],
    ['a repository with a space', `acme/my web#7@${SHA}`],
    ['a repository with a newline', `acme/web\n#7@${SHA}`],
    ['a repository of dots', `../..#7@${SHA}`],
    ['a repository named ..', `acme/..#7@${SHA}`],
    ['a repository with unicode look-alikes', `acme/wеb#7@${SHA}`],
    ['a non-numeric number', `acme/web#seven@${SHA}`],
    ['a negative number', `acme/web#-7@${SHA}`],
    ['a number with a sign', `acme/web#+7@${SHA}`],
    ['a number with leading zeros', `acme/web#007@${SHA}`],
    ['a zero number', `acme/web#0@${SHA}`],
    ['a fractional number', `acme/web#7.5@${SHA}`],
    ['a number in exponent form', `acme/web#7e2@${SHA}`],
    ['a number past the safe integers', `acme/web#9007199254740993@${SHA}`],
    ['a short commit', 'acme/web#7@abc'],
    ['an upper-case commit', `acme/web#7@${'A'.repeat(40)}`],
    ['a commit that is not hex', `acme/web#7@${'g'.repeat(40)}`],
    ['a commit with a trailing newline', `acme/web#7@${SHA}\n`],
    ['a commit of 41 characters', `acme/web#7@${'a'.repeat(41)}`],
  ])('reads %s as no key at all', (_name, forged) => {
    expect(parseApprovalKey(forged)).toBeNull();
  });
});

describe('one key, one PR', () => {
  it('refuses to build a key that would not read back as the same PR', () => {
    for (const parts of [
      { repository: 'acme/web#1@x', number: 7, headSha: SHA },
      { repository: 'acme/web', number: 0, headSha: SHA },
      { repository: 'acme/web', number: 7.5, headSha: SHA },
      { repository: 'acme/web', number: 7, headSha: `${SHA}@${SHA}` },
    ]) {
      expect(isApprovalKey(parts)).toBe(false);
      expect(() => approvalKeyOf(parts)).toThrow(/not an approval key/);
    }
  });

  it('a key that reads names exactly one PR: built again from what it says, it is the same string', () => {
    // Any string at all, and strings made of the key's own punctuation and parts.
    const pieces = fc.constantFrom('#', '@', '/', 'acme', 'web', '7', '07', SHA, 'a', '-', '.', ' ');
    const keyish = fc.array(pieces, { maxLength: 8 }).map((p) => p.join(''));
    fc.assert(
      fc.property(fc.oneof(fc.string(), keyish), (value) => {
        const parts = parseApprovalKey(value);
        if (parts) expect(approvalKeyOf(parts)).toBe(value);
      }),
      { numRuns: 2000 },
    );
  });

  it('reads back every key it builds as the same PR', () => {
    const owner = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_-]{0,20}$/);
    const name = fc.stringMatching(/^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,20}$/);
    const parts = fc.record({
      repository: fc.tuple(owner, name).map(([o, n]) => `${o}/${n}`),
      number: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
      headSha: fc.oneof(fc.stringMatching(/^[0-9a-f]{40}$/), fc.stringMatching(/^[0-9a-f]{64}$/)),
    });
    fc.assert(
      fc.property(parts, (p) => {
        expect(parseApprovalKey(approvalKeyOf(p))).toEqual(p);
      }),
    );
  });
});
