/**
 * The synchronous query path (query definitions shared with the async forms: a statement looked up
 * by its SQL text per call) against better-sqlite3 statements prepared once and called directly, in
 * the same run on the same ledger: `latestDecision` and `approvalReceipts`, as the gate reads them
 * on every webhook. Prints figures and ends with `ratio: X` (query path calls per second over raw).
 */
import { mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LedgerEntryInput } from '../src/core/ledger-entries.js';
import { dbOf, openLedger } from '../src/ledger/ledger.js';
import { sqlOf } from '../src/ledger/ledger-reader.js';
import { approvalReceipts, LATEST_DECISION_SQL, latestDecision } from '../src/ledger/queries/decisions.js';

const PRS = Number(process.env.BENCH_PRS ?? 2_000);
const CALLS = Number(process.env.BENCH_CALLS ?? 200_000);

const ledger = openLedger(join(mkdtempSync(join(tmpdir(), 'agov-bench-')), 'ledger.db'));
const decisions: LedgerEntryInput[] = Array.from({ length: PRS }, (_, i) => ({
  type: 'decision.recorded',
  agentId: null,
  actor: 'github',
  payload: {
    repository: `acme/repo-${i % 50}`,
    number: i,
    headSha: 'a'.repeat(40),
    outcome: 'allow',
    summary: 'ok',
    tier: 'T1',
    policyVersion: 'p1',
    diffHash: 'd',
    trigger: 'pull_request.opened',
    rules: [],
  },
}));
ledger.appendAll(decisions);

const db = dbOf(ledger);
const rawLatest = db.prepare(sqlOf(LATEST_DECISION_SQL, 'sqlite'));
const rawReceipts = db.prepare(
  'SELECT approver, verdict, gate, head_sha, diff_hash, policy_version, source, ts FROM approvals WHERE repository = ? AND number = ? ORDER BY seq',
);

function perSecond(call: (i: number) => unknown): number {
  const start = performance.now();
  for (let i = 0; i < CALLS; i++) call(i);
  return Math.round((CALLS / (performance.now() - start)) * 1000);
}

const pr = (i: number): [string, number] => [`acme/repo-${i % 50}`, i % PRS];
// Alternate, twice each, so a change of load shifts both alike.
const shared: number[] = [];
const raw: number[] = [];
for (let round = 0; round < 2; round++) {
  shared.push(perSecond((i) => [latestDecision(ledger, ...pr(i)), approvalReceipts(ledger, ...pr(i))]));
  raw.push(perSecond((i) => [rawLatest.get(...pr(i)), rawReceipts.all(...pr(i))]));
}
const best = (xs: number[]) => Math.max(...xs);
console.log(
  `load average: ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
);
console.log(`query path: ${best(shared)} calls/s (latestDecision + approvalReceipts, mapped)`);
console.log(`raw statements: ${best(raw)} calls/s (same SQL, rows unmapped)`);
console.log(`ratio: ${(best(shared) / best(raw)).toFixed(2)}`);
ledger.close();
