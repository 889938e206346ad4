/**
 * Ledger append rate against raw better-sqlite3 inserts of the same rows, in the same run and with
 * the same pragmas (WAL, synchronous=NORMAL, one transaction per row); then the verify rate:
 * everything `agov ledger verify` checks (chain, pinned key, checkpoints, projections), on a larger
 * ledger (BENCH_VERIFY_ENTRIES, 200,000 by default) and on the small one.
 * The ledger is measured on the service's write path (concurrent writers, group commit) and, for
 * reference, with one writer committing each append alone.
 * Then, when PostgreSQL's `initdb` and `pg_ctl` are installed, the same figures on a private
 * PostgreSQL server (bench/ledger-postgres.ts): raw inserts, ledger appends, two replicas on one chain.
 * Prints figures and ends with `ratio: X` (ledger appends per second over raw inserts per second,
 * SQLite's; PostgreSQL's is the `postgres ratio` line).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { postgresBinary } from '../src/chaos/private-postgres.js';
import type { LedgerEntryInput } from '../src/core/ledger-entries.js';
import { Checkpoints } from '../src/ledger/checkpoints.js';
import { entryHash } from '../src/ledger/entry-hash.js';
import { dbOf, Ledger } from '../src/ledger/ledger.js';
import { openLedgerDb } from '../src/ledger/open-ledger-db.js';
import { loadSigningKey } from '../src/ledger/signing-key.js';
import { verifyLedger } from '../src/ledger/verify.js';
import { benchPostgres, type PostgresFigures, postgresLines } from './ledger-postgres.js';

const N = Number(process.env.BENCH_ENTRIES ?? 20_000);
const VERIFY_N = Number(process.env.BENCH_VERIFY_ENTRIES ?? 200_000);
const WRITERS = Number(process.env.BENCH_WRITERS ?? 16);
const dir = join(mkdtempSync(join(tmpdir(), 'agov-bench-')), 'run');

const rows: LedgerEntryInput[] = Array.from({ length: N }, (_, i) => ({
  type: 'integration.event',
  agentId: `agent-${i % 10}`,
  actor: `agent-${i % 10}`,
  payload: { event: 'heartbeat', data: { repo: 'acme/web', run: i, note: 'x'.repeat(64) } },
}));

function rate(n: number, ms: number): number {
  return Math.round((n / ms) * 1000);
}

/** Opens a fresh ledger with the bench's agents registered. */
function openBenchLedger(name: string): Ledger {
  const ledger = new Ledger(openLedgerDb(join(dir, name)));
  for (let a = 0; a < 10; a++) {
    ledger.append({
      type: 'agent.registered',
      agentId: `agent-${a}`,
      actor: 'bench',
      payload: {
        name: `agent-${a}`,
        owner: null,
        tier: 'T1',
        identities: { githubLogins: [], trailers: [] },
        tokenHash: null,
      },
    });
  }
  return ledger;
}

/** One writer, one append and one commit at a time. */
function benchLedgerSequential(): number {
  const ledger = openBenchLedger('sequential.db');
  const start = performance.now();
  for (const row of rows) ledger.append(row);
  const ms = performance.now() - start;
  ledger.close();
  return rate(N, ms);
}

/**
 * The service's write path: WRITERS concurrent handlers, each awaiting its append before the
 * next, committed together by `appendSoon` (group commit).
 */
async function benchLedgerConcurrent(): Promise<number> {
  const ledger = openBenchLedger('ledger.db');
  let next = 0;
  const writer = async () => {
    while (next < rows.length) await ledger.appendSoon([rows[next++]!]);
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: WRITERS }, writer));
  const ms = performance.now() - start;
  ledger.close();
  return rate(N, ms);
}

function benchRaw(): number {
  mkdirSync(dir, { recursive: true });
  const db = new Database(join(dir, 'raw.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(`CREATE TABLE entries (seq INTEGER PRIMARY KEY, ts TEXT NOT NULL, type TEXT NOT NULL, agent_id TEXT,
    actor TEXT NOT NULL, payload TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL)`);
  const insert = db.prepare('INSERT INTO entries VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  const hash = '0'.repeat(64);
  const start = performance.now();
  let seq = 0;
  for (const row of rows) {
    seq++;
    insert.run(
      seq,
      new Date().toISOString(),
      row.type,
      row.agentId,
      row.actor,
      JSON.stringify(row.payload),
      hash,
      hash,
    );
  }
  const ms = performance.now() - start;
  db.close();
  return rate(N, ms);
}

/** Verifies the ledger the concurrent writers made: chain and projections (no checkpoint). */
function benchVerify(): { perSecond: number; checked: number } {
  const db = openLedgerDb(join(dir, 'ledger.db'));
  const start = performance.now();
  const result = verifyLedger(db);
  const ms = performance.now() - start;
  db.close();
  if (!result.ok) throw new Error(`bench ledger failed to verify at ${result.firstBadSeq}: ${result.reason}`);
  return { perSecond: rate(result.checked, ms), checked: result.checked };
}

/**
 * A larger ledger for verify alone, written in big transactions: agent events, with a decision
 * every 10th entry and a violation every 200th (rows in four projection tables), a checkpoint half
 * way and one at the end (pinned key, signatures, state folded and compared).
 */
function buildVerifyLedger(): string {
  const path = join(dir, 'verify.db');
  const ledger = openBenchLedger('verify.db');
  const checkpoints = new Checkpoints(ledger, loadSigningKey({ path: join(dir, 'verify-key.pem') }));
  const entry = (i: number): LedgerEntryInput => {
    const agentId = `agent-${i % 10}`;
    if (i % 200 === 0) {
      return {
        type: 'violation.recorded',
        agentId,
        actor: 'github',
        payload: {
          violation: 'ci_failure',
          severity: 'low',
          consequence: 'charge_budget',
          budgetCharge: 1,
          details: `CI failed on acme/web#${i}`,
          source: 'github',
        },
      };
    }
    if (i % 10 === 0) {
      return {
        type: 'decision.recorded',
        agentId,
        actor: 'github',
        payload: {
          repository: 'acme/web',
          number: i,
          headSha: 'a'.repeat(40),
          outcome: 'allow',
          summary: 'all rules pass',
          tier: 'T1',
          policyVersion: 'p1',
          diffHash: 'd1',
          trigger: 'pull_request.opened',
          rules: [],
        },
      };
    }
    return rows[i % rows.length]!;
  };
  for (let i = 0; i < VERIFY_N; i += 1000) {
    ledger.appendAll(Array.from({ length: Math.min(1000, VERIFY_N - i) }, (_, j) => entry(i + j)));
    if (i === Math.floor(VERIFY_N / 2000) * 1000) checkpoints.create();
  }
  checkpoints.create();
  dbOf(ledger).pragma('wal_checkpoint(TRUNCATE)');
  ledger.close();
  return path;
}

/** Verifies the larger ledger three times; the median run. */
function benchVerifyLarge(path: string): { perSecond: number; checked: number; runs: number[] } {
  const runs: number[] = [];
  let checked = 0;
  for (let round = 0; round < 3; round++) {
    const db = openLedgerDb(path);
    const start = performance.now();
    const result = verifyLedger(db);
    const ms = performance.now() - start;
    db.close();
    if (!result.ok) throw new Error(`verify ledger failed at ${result.firstBadSeq}: ${result.reason}`);
    runs.push(rate(result.checked, ms));
    checked = result.checked;
  }
  return { perSecond: [...runs].sort((a, b) => a - b)[1]!, checked, runs };
}

// Warm up the hash and JSON paths so neither side pays for JIT compilation in its measurement.
for (let i = 0; i < 2000; i++)
  entryHash({ seq: i, ts: '', type: 't', agentId: null, actor: 'a', payload: '{}', prevHash: '' });

// Alternate the two, three rounds each, and keep the median of each: disk and CPU noise on a
// shared machine hits both sides alike.
const raws: number[] = [];
const ledgers: number[] = [];
const sequentials: number[] = [];
let verify = { perSecond: 0, checked: 0 };
for (let round = 0; round < 3; round++) {
  rmSync(dir, { recursive: true, force: true });
  raws.push(benchRaw());
  ledgers.push(await benchLedgerConcurrent());
  sequentials.push(benchLedgerSequential());
  verify = benchVerify();
}
const large = benchVerifyLarge(buildVerifyLedger());
rmSync(dir, { recursive: true, force: true });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[1]!;
const raw = median(raws);
const appends = median(ledgers);
const sequential = median(sequentials);

console.log(`entries:              ${N}`);
console.log(
  `raw inserts/s:        ${raw}   (better-sqlite3, same rows, one transaction each; rounds ${raws.join(', ')})`,
);
console.log(
  `ledger appends/s:     ${appends}   (${WRITERS} concurrent writers, group commit; validated, hash-chained, projections in the same transaction; rounds ${ledgers.join(', ')})`,
);
console.log(
  `  one writer:         ${sequential}   (a commit per append, ${(sequential / raw).toFixed(2)} of raw; rounds ${sequentials.join(', ')})`,
);
console.log(
  `verify entries/s:     ${large.perSecond}   (${large.checked} entries: chain, pinned key, 2 checkpoints, projections rebuilt and compared; rounds ${large.runs.join(', ')})`,
);
console.log(
  `  small ledger:       ${verify.perSecond}   (the ${verify.checked} entries above: chain and projections, on one thread)`,
);
console.log(
  `load average:         ${loadavg()[0]!.toFixed(2)}   (${cpus().length} cores; other work on the machine slows every figure)`,
);
let postgres: PostgresFigures | string;
try {
  postgresBinary('initdb');
  postgresBinary('pg_ctl');
  postgres = await benchPostgres();
} catch (error) {
  postgres = error instanceof Error ? error.message : String(error);
}
if (typeof postgres === 'string') console.log(`PostgreSQL:           skipped (${postgres})`);
else {
  console.log('PostgreSQL (private server, fsync on, same run):');
  for (const line of postgresLines(postgres, '  ')) console.log(line);
  console.log(`postgres ratio: ${(postgres.appends / postgres.raw).toFixed(2)}`);
}
console.log(`ratio: ${(appends / raw).toFixed(2)}`);
