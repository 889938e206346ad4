import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  approvalKeyOf,
  deploymentApprovalKeyOf,
  isApprovalKey,
  isDeploymentApprovalKey,
  parseApprovalKey,
  parseDeploymentApprovalKey,
} from '../../src/core/approval-key.js';

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

const DEPLOY = 'deployment:Codertocat/Hello-World:run:4242:env:production';

describe('a deployment key', () => {
  it('names a repository, a workflow run and an environment, spelled as GitHub sent it', () => {
    const parts = { repository: 'Codertocat/Hello-World', runId: 4242, environment: 'production' };
    expect(deploymentApprovalKeyOf(parts)).toBe(DEPLOY);
    expect(parseDeploymentApprovalKey(DEPLOY)).toEqual(parts);
    // Anything GitHub allows in an environment's name travels encoded, and comes back the same.
    const odd = { repository: 'acme/web', runId: 1, environment: 'EU: prod / blue 🚀' };
    expect(parseDeploymentApprovalKey(deploymentApprovalKeyOf(odd))).toEqual(odd);
  });

  it('is never read as a PR key, and a PR key is never read as one', () => {
    expect(parseApprovalKey(DEPLOY)).toBeNull();
    expect(parseDeploymentApprovalKey(`Codertocat/Hello-World#2@${SHA}`)).toBeNull();
  });

  it.each([
    ['an empty value', ''],
    ['no prefix', 'Codertocat/Hello-World:run:4242:env:production'],
    ['another run smuggled after the environment', `${DEPLOY}:run:1:env:staging`],
    ['a second environment', `${DEPLOY}%3Aenv%3Astaging:env:staging`],
    ['a run with leading zeros', 'deployment:acme/web:run:04242:env:production'],
    ['a zero run', 'deployment:acme/web:run:0:env:production'],
    ['a negative run', 'deployment:acme/web:run:-1:env:production'],
    ['a run past the safe integers', 'deployment:acme/web:run:9007199254740993:env:production'],
    ['a repository with a path', 'deployment:acme/web/x:run:1:env:production'],
    ['a repository named ..', 'deployment:acme/..:run:1:env:production'],
    ['a repository with a colon', 'deployment:acme:x/web:run:1:env:production'],
    ['an empty environment', 'deployment:acme/web:run:1:env:'],
    ['an environment with a raw colon', 'deployment:acme/web:run:1:env:prod:x'],
    ['a second spelling of the same environment', 'deployment:acme/web:run:1:env:%70roduction'],
    ['lower-case percent hex', 'deployment:acme/web:run:1:env:a%3ab'],
    ['malformed percent encoding', 'deployment:acme/web:run:1:env:%E0%A4%A'],
    ['an environment past 255 characters', `deployment:acme/web:run:1:env:${'p'.repeat(256)}`],
    ['a trailing newline', `${DEPLOY}\n`],
  ])('reads %s as no key at all', (_name, forged) => {
    expect(parseDeploymentApprovalKey(forged)).toBeNull();
  });

  it('refuses to build a key that would not read back as the same deployment', () => {
    for (const parts of [
      { repository: 'acme/web:run:1', runId: 7, environment: 'production' },
      { repository: 'acme/web', runId: 0, environment: 'production' },
      { repository: 'acme/web', runId: 7.5, environment: 'production' },
      { repository: 'acme/web', runId: 7, environment: '' },
      { repository: 'acme/web', runId: 7, environment: '\uD800' },
    ]) {
      expect(isDeploymentApprovalKey(parts)).toBe(false);
      expect(() => deploymentApprovalKeyOf(parts)).toThrow(/not a deployment approval key/);
    }
  });

  it('a key that reads names exactly one deployment: built again from what it says, it is the same string', () => {
    const pieces = fc.constantFrom(
      ':',
      'run',
      'env',
      '%',
      '3A',
      '41',
      'deployment',
      'acme/web',
      '7',
      '07',
      'a',
      ' ',
    );
    const keyish = fc.array(pieces, { maxLength: 10 }).map((p) => p.join(''));
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          keyish,
          keyish.map((k) => `deployment:acme/web:run:7:env:${k}`),
        ),
        (value) => {
          const parts = parseDeploymentApprovalKey(value);
          if (parts) expect(deploymentApprovalKeyOf(parts)).toBe(value);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('reads back every key it builds as the same deployment, and no two deployments share a key', () => {
    const parts = fc.record({
      repository: fc.constantFrom('acme/web', 'acme/web2'),
      runId: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
      environment: fc.string({ minLength: 1, maxLength: 40, unit: 'grapheme' }),
    });
    fc.assert(
      fc.property(parts, parts, (a, b) => {
        expect(parseDeploymentApprovalKey(deploymentApprovalKeyOf(a))).toEqual(a);
        const same = a.repository === b.repository && a.runId === b.runId && a.environment === b.environment;
        expect(deploymentApprovalKeyOf(a) === deploymentApprovalKeyOf(b)).toBe(same);
      }),
    );
  });
});
