import { describe, expect, it } from 'vitest';
import { addedLinesOf, type ChangedFile } from '../../src/core/policy/pull-request-facts.js';
import { resolvePolicy } from '../../src/core/policy/resolve-policy.js';
import { secretMatchersOf } from '../../src/core/policy/rules.js';
import { scanInSlices } from '../../src/github/scan-in-slices.js';

const CATASTROPHIC = 'internal-([0-9a-f]+)+-key';

function fileOf(path: string, lines: string[]): ChangedFile {
  return {
    path,
    previousPath: null,
    status: 'modified',
    additions: lines.length,
    deletions: 0,
    blobSha: `b-${path}`,
    addedLines: addedLinesOf(`@@ -0,0 +1,${lines.length} @@\n${lines.map((l) => `+${l}`).join('\n')}`),
  };
}

/** 1 MB of lines that make a backtracking engine explode on the pattern, and one real hit. */
function megabyte(): string[] {
  const lines: string[] = [];
  for (let size = 0; size < 1024 * 1024; size += 90)
    lines.push(`  const id${lines.length} = "internal-${'0123456789abcdef'.repeat(3)}-kex"; // no key`);
  lines.push('const token = "internal-00ff-key";');
  return lines;
}

/** A clock that moves 1 ms each time it is read: slices are then a matter of steps, not luck. */
function steppingClock() {
  let t = 0;
  return () => t++;
}

describe('the secret scan gives the event loop back', () => {
  const matchers = secretMatchersOf(
    resolvePolicy({ rules: { secrets: { patterns: [CATASTROPHIC] } } }, { source: 't' }),
  );

  it('scans a 1 MB diff with a catastrophic policy pattern in many slices and finds the one real key', async () => {
    const lines = megabyte();
    let turns = 0;
    const ticker = setInterval(() => turns++, 0);
    const scan = await scanInSlices([fileOf('src/big.ts', lines)], matchers, {
      sliceMs: 10,
      budgetMs: Number.POSITIVE_INFINITY,
      now: steppingClock(),
    });
    clearInterval(ticker);
    expect(scan.findings).toMatchObject([
      { path: 'src/big.ts', startLine: lines.length, title: 'Secret in added line' },
    ]);
    expect(scan.unscanned).toEqual([]);
    // Every 10 reads of the clock it stopped and let the loop run.
    expect(scan.slices).toBeGreaterThan(1000);
    expect(turns).toBeGreaterThan(0);
  });

  it('matches a very long line in windows, so one step never runs a pattern over all of it', async () => {
    const long = `${'x'.repeat(200_000)} AKIAIOSFODNN7EXAMPLE ${'y'.repeat(200_000)}`;
    const scan = await scanInSlices([fileOf('blob.txt', [long])], matchers, {
      now: steppingClock(),
      budgetMs: 1e9,
    });
    expect(scan.findings).toMatchObject([{ path: 'blob.txt', startLine: 1 }]);
  });

  it('out of time, keeps what it found and reports the rest unscanned, never clean', async () => {
    const first = fileOf('a.ts', ['const k = "AKIAIOSFODNN7EXAMPLE";']);
    const rest = [fileOf('b.ts', megabyte()), fileOf('c.ts', ['x'])];
    const scan = await scanInSlices([first, ...rest], matchers, { budgetMs: 500, now: steppingClock() });
    expect(scan.findings.map((f) => f.path)).toEqual(['a.ts']);
    expect(scan.unscanned.map((u) => [u.path, u.title])).toEqual([
      ['b.ts', 'Not scanned for secrets'],
      ['c.ts', 'Not scanned for secrets'],
    ]);
    expect(scan.unscanned[0]!.message).toContain('ran out of time');
  });
});
