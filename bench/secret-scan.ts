/**
 * How long one PR evaluation holds the event loop when a policy carries the pattern
 * `internal-([0-9a-f]+)+-key` (catastrophic for a backtracking engine). `evaluate` is synchronous,
 * so the loop is held for the whole call; a 1 ms ticker measures the longest gap it sees, which
 * is that hold as the rest of the service would feel it.
 *
 * - re2js (the service): the real `evaluate` over a 1 MB diff, several runs, the first one cold.
 * - native RegExp (the baseline, what the service did before): the same pattern tested with a
 *   JavaScript RegExp on each added line of a two-line PR whose longest line is 40 bytes; the
 *   1 MB diff would not finish.
 * - for the record, re2js on a pattern chosen to defeat RE2's DFA (`[01]*1[01]{20}$`) over 1 MB
 *   of random 0/1 lines: linear, but with a large constant.
 * Prints figures and ends with `ratio: X` (longest re2js hold on 1 MB over the native hold on
 * 40 bytes; below 1 means the 1 MB PR under RE2 holds the loop for less than the tiny one did).
 */
import { EMPTY_ORG_CONFIG, tierCapabilities } from '../src/core/org-config.js';
import { evaluate } from '../src/core/policy/evaluate.js';
import type { ChangedFile, PullRequestFacts } from '../src/core/policy/pull-request-facts.js';
import { addedLinesOf } from '../src/core/policy/pull-request-facts.js';
import { resolvePolicy } from '../src/core/policy/resolve-policy.js';
import { secretMatchersOf } from '../src/core/policy/rules.js';
import { scanInSlices } from '../src/github/scan-in-slices.js';

const CATASTROPHIC = 'internal-([0-9a-f]+)+-key';
const MB = 1024 * 1024;
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const NATIVE_LENGTH = Number(process.env.BENCH_NATIVE_HEX ?? 27);

function patchOf(lines: string[]): string {
  return `@@ -0,0 +1,${lines.length} @@\n${lines.map((l) => `+${l}`).join('\n')}`;
}

function oneMegabyte(line: (i: number) => string): string[] {
  const lines: string[] = [];
  let size = 0;
  while (size < MB) {
    const l = line(lines.length);
    lines.push(l);
    size += l.length + 2;
  }
  return lines;
}

function facts(lines: string[]): PullRequestFacts {
  const patch = patchOf(lines);
  const file: ChangedFile = {
    path: 'src/big.ts',
    previousPath: null,
    status: 'modified',
    additions: lines.length,
    deletions: 0,
    blobSha: 'b',
    addedLines: addedLinesOf(patch),
  };
  return {
    repository: 'acme/web',
    number: 1,
    title: 'bench',
    url: '',
    author: 'builder-bot[bot]',
    headSha: 'a'.repeat(40),
    baseRef: 'main',
    draft: false,
    files: [file],
    coAuthors: [],
    checks: [],
  };
}

const agent = {
  id: 'builder-bot',
  name: 'builder-bot',
  owner: null,
  tier: 'T3' as const,
  status: 'active' as const,
  identities: { githubLogins: [], trailers: [] },
  tokenHash: null,
  registeredAt: '',
  tierSince: '',
};

/** Like `longestHold`, for work that gives the event loop back while it runs. */
async function longestHoldAsync(work: () => Promise<void>): Promise<number> {
  let last = performance.now();
  let longest = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 1);
  await new Promise((r) => setTimeout(r, 20));
  await work();
  await new Promise((r) => setTimeout(r, 20));
  clearInterval(ticker);
  return longest;
}

/** Runs `work` from a macrotask while a 1 ms ticker runs; returns the longest gap between ticks. */
async function longestHold(work: () => void): Promise<number> {
  let last = performance.now();
  let longest = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 1);
  await new Promise((r) => setTimeout(r, 20));
  await new Promise<void>((r) =>
    setTimeout(() => {
      work();
      r();
    }, 0),
  );
  await new Promise((r) => setTimeout(r, 20));
  clearInterval(ticker);
  return longest;
}

function evaluatePr(pattern: string, lines: string[]): number {
  const policy = resolvePolicy({ rules: { secrets: { patterns: [pattern] } } }, { source: 'bench' });
  const d = evaluate(
    policy,
    tierCapabilities(EMPTY_ORG_CONFIG, 'T3'),
    facts(lines),
    {
      agent,
      receipts: [],
      org: EMPTY_ORG_CONFIG,
    },
    new Date(),
  );
  return d.rules.find((r) => r.rule === 'secrets')!.annotations.length;
}

const hex = '0123456789abcdef';
const codeLines = oneMegabyte(
  (i) => `  const id${i} = "internal-${hex.repeat(3)}-kex"; // not a key: the pattern fails at the end`,
);
codeLines.push('const token = "internal-00ff-key";');

const re2Holds: number[] = [];
let found = 0;
for (let run = 0; run < RUNS; run++)
  re2Holds.push(
    await longestHold(() => {
      found = evaluatePr(CATASTROPHIC, codeLines);
    }),
  );
if (found !== 1) throw new Error(`expected 1 finding in the 1 MB diff, got ${found}`);

// The baseline: what the rule did before, a JavaScript RegExp per added line.
const tiny = ['for (;;) {', `  k = "internal-${'a'.repeat(NATIVE_LENGTH)}-kex";`];
const native = new RegExp(CATASTROPHIC);
const nativeHold = await longestHold(() => {
  for (const line of tiny) native.test(line);
});

let seed = 7;
const random = () => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x7fffffff;
};
const binaryLines = oneMegabyte(() =>
  Array.from({ length: 80 }, () => (random() < 0.5 ? '0' : '1')).join(''),
);
const hostileHold = await longestHold(() => evaluatePr('[01]*1[01]{20}$', binaryLines));

// What the service does: the scan in slices that give the event loop back, then `evaluate`.
async function serviceHold(pattern: string, lines: string[]): Promise<{ hold: number; found: number }> {
  const f = facts(lines);
  const policy = resolvePolicy({ rules: { secrets: { patterns: [pattern] } } }, { source: 'bench' });
  let count = 0;
  const hold = await longestHoldAsync(async () => {
    const { slices: _s, ...secretScan } = await scanInSlices(f.files, secretMatchersOf(policy));
    const d = evaluate(
      policy,
      tierCapabilities(EMPTY_ORG_CONFIG, 'T3'),
      { ...f, secretScan },
      { agent, receipts: [], org: EMPTY_ORG_CONFIG },
      new Date(),
    );
    count = d.rules
      .find((r) => r.rule === 'secrets')!
      .annotations.filter((a) => a.level === 'failure').length;
  });
  return { hold, found: count };
}
const sliced = [];
for (let run = 0; run < RUNS; run++) sliced.push(await serviceHold(CATASTROPHIC, codeLines));
if (sliced.some((r) => r.found !== 1)) throw new Error('the sliced scan missed the finding');
const slicedWorst = Math.max(...sliced.map((r) => r.hold));
const slicedHostile = await serviceHold('[01]*1[01]{20}$', binaryLines);

const sorted = [...re2Holds].sort((a, b) => a - b);
const worst = sorted.at(-1)!;
const diffBytes = codeLines.reduce((n, l) => n + l.length + 2, 0);
console.log(`pattern:                 ${CATASTROPHIC}`);
console.log(
  `re2js, 1 MB diff:        longest hold ${worst.toFixed(1)} ms, median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(1)} ms (${RUNS} evaluations, first cold: ${re2Holds.map((h) => h.toFixed(1)).join(', ')}; ${codeLines.length} added lines, ${diffBytes} bytes, 1 finding)`,
);
console.log(
  `native RegExp, 2 lines:  longest hold ${nativeHold.toFixed(1)} ms (longest line ${tiny[1]!.length} bytes; the 1 MB diff would not finish)`,
);
console.log(
  `re2js, DFA-hostile:      longest hold ${hostileHold.toFixed(1)} ms ([01]*1[01]{20}$ over 1 MB of random 0/1 lines)`,
);
console.log(
  `service (sliced scan):   longest hold ${slicedWorst.toFixed(1)} ms over ${RUNS} PRs of 1 MB with ${CATASTROPHIC}; ${slicedHostile.hold.toFixed(1)} ms with [01]*1[01]{20}$`,
);
console.log(`ratio: ${(slicedWorst / nativeHold).toFixed(3)}`);
