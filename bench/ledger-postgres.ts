/**
 * PostgreSQL ledger append rate against raw `INSERT`s of the same rows into the same private server
 * (fsync on), in the same run: raw inserts one transaction each from one connection; ledger appends
 * from concurrent writers through one replica (group commit, the head row taken FOR UPDATE, chain
 * trigger, hash-chained); one writer committing each append alone; and two replicas (two pools)
 * appending to one chain at once. Ends with `ratio: X` (ledger appends/s over raw inserts/s).
 * Needs `initdb` and `pg_ctl` (Debian's postgresql package).
 */
import { cpus, loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { PrivatePostgres } from '../src/chaos/private-postgres.js';
import type { LedgerEntryInput } from '../src/core/ledger-entries.js';
import { entryHash } from '../src/ledger/entry-hash.js';
import { openPostgresLedger, type PostgresLedger } from '../src/ledger/postgres/postgres-ledger.js';

const N = Number(process.env.BENCH_ENTRIES ?? 5_000);
const WRITERS = Number(process.env.BENCH_WRITERS ?? 16);

const rows: LedgerEntryInput[] = Array.from({ length: N }, (_, i) => ({
  type: 'integration.event',
  agentId: `agent-${i % 10}`,
  actor: `agent-${i % 10}`,
  payload: { event: 'heartbeat', data: { repo: 'acme/web', run: i, note: 'x'.repeat(64) } },
}));

function rate(n: number, ms: number): number {
  return Math.round((n / ms) * 1000);
}

/** `writers` concurrent writers taking the next row until none is left, spread over `ledgers`. */
async function appendAll(ledgers: readonly PostgresLedger[], writers: number): Promise<number> {
  let next = 0;
  const writer = async (ledger: PostgresLedger) => {
    while (next < rows.length) await ledger.append(rows[next++]!);
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: writers }, (_, i) => writer(ledgers[i % ledgers.length]!)));
  return rate(rows.length, performance.now() - start);
}

async function benchLedger(url: string, replicas: number, writers: number): Promise<number> {
  const ledgers = await Promise.all(Array.from({ length: replicas }, () => openPostgresLedger(url)));
  try {
    const perSecond = await appendAll(ledgers, writers);
    const verdict = await ledgers[0]!.verifyChain();
    if (!verdict.ok || verdict.checked !== N)
      throw new Error(`the bench chain does not verify: ${JSON.stringify(verdict)}`);
    return perSecond;
  } finally {
    await Promise.all(ledgers.map((l) => l.close()));
  }
}

/** The same rows, hashed the same way, each INSERTed in its own transaction into a plain table. */
async function benchRaw(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`CREATE TABLE raw_entries (seq bigint PRIMARY KEY, ts text NOT NULL, type text NOT NULL,
      agent_id text, actor text NOT NULL, payload text NOT NULL, prev_hash text NOT NULL, hash text NOT NULL)`);
    let prevHash = '0'.repeat(64);
    const start = performance.now();
    for (const [i, row] of rows.entries()) {
      const fields = {
        seq: i + 1,
        ts: new Date().toISOString(),
        type: row.type,
        agentId: row.agentId,
        actor: row.actor,
        payload: JSON.stringify(row.payload),
        prevHash,
      };
      const hash = entryHash(fields);
      await client.query('INSERT INTO raw_entries VALUES ($1, $2, $3, $4, $5, $6, $7, $8)', [
        fields.seq,
        fields.ts,
        fields.type,
        fields.agentId,
        fields.actor,
        fields.payload,
        prevHash,
        hash,
      ]);
      prevHash = hash;
    }
    return rate(rows.length, performance.now() - start);
  } finally {
    await client.end();
  }
}

export interface PostgresFigures {
  raw: number;
  appends: number;
  sequential: number;
  twoReplicas: number;
}

/** The four rates, each on its own database of one private server (fsync on), stopped afterwards. */
export async function benchPostgres(): Promise<PostgresFigures> {
  const server = await PrivatePostgres.start({ durable: true });
  try {
    const raw = await benchRaw(await server.createDatabase());
    const appends = await benchLedger(await server.createDatabase(), 1, WRITERS);
    const sequential = await benchLedger(await server.createDatabase(), 1, 1);
    const twoReplicas = await benchLedger(await server.createDatabase(), 2, WRITERS);
    return { raw, appends, sequential, twoReplicas };
  } finally {
    await server.stop();
  }
}

/** The figures as `bench:ledger-postgres` prints them, and as `bench:ledger` prints them beside SQLite's. */
export function postgresLines(f: PostgresFigures, indent = ''): string[] {
  return [
    `raw inserts/s:        ${f.raw}   (PostgreSQL, same rows and columns, one transaction each, one connection)`,
    `ledger appends/s:     ${f.appends}   (${WRITERS} concurrent writers, one replica, group commit; the chain verifies)`,
    `  one writer:         ${f.sequential}   (a commit per append, ${(f.sequential / f.raw).toFixed(2)} of raw)`,
    `  two replicas:       ${f.twoReplicas}   (two pools, ${WRITERS} writers spread over both, one chain that verifies)`,
  ].map((line) => indent + line);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const figures = await benchPostgres();
  console.log(`entries:              ${N}`);
  for (const line of postgresLines(figures)) console.log(line);
  console.log(
    `load average:         ${loadavg()[0]!.toFixed(2)}   (${cpus().length} cores; other work on the machine slows every figure)`,
  );
  console.log(`ratio: ${(figures.appends / figures.raw).toFixed(2)}`);
}
