/**
 * Ledger append rate against raw better-sqlite3 inserts of the same rows, in the same run and with
 * the same pragmas (WAL, synchronous=NORMAL, one transaction per row); then the verify rate.
 * The ledger is measured on the service's write path (concurrent writers, group commit) and, for
 * reference, with one writer committing each append alone.
 * Prints figures and ends with `ratio: X` (ledger appends per second over raw inserts per second).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { LedgerEntryInput } from '../src/core/ledger-entries.js';
import { entryHash } from '../src/ledger/entry-hash.js';
import { Ledger } from '../src/ledger/ledger.js';
import { openLedgerDb } from '../src/ledger/open-ledger-db.js';
import { verifyLedger } from '../src/ledger/verify.js';

const N = Number(process.env.BENCH_ENTRIES ?? 20_000);
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

function benchVerify(): { perSecond: number; checked: number } {
  const db = openLedgerDb(join(dir, 'ledger.db'));
  const start = performance.now();
  const result = verifyLedger(db);
  const ms = performance.now() - start;
  db.close();
  if (!result.ok) throw new Error(`bench ledger failed to verify at ${result.firstBadSeq}`);
  return { perSecond: rate(result.checked, ms), checked: result.checked };
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
console.log(`verify entries/s:     ${verify.perSecond}   (${verify.checked} entries recomputed)`);
console.log(`ratio: ${(appends / raw).toFixed(2)}`);
