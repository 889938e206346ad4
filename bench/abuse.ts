/**
 * Soak under abuse: one agent floods events and locks at full speed (autocannon, its own process),
 * with a third of its calls carrying a bad token, while another agent works normally (a preflight
 * and an event every 150 ms: 800 calls a minute, under its 1,200). Prints the well-behaved agent's p50/p99 and error
 * count without the flood and then beside it, in the same run, with `ratio:` (p99 under the flood
 * over p99 without), and the ledger's growth per minute (entries and bytes) in each phase.
 * The service runs in a child process on its embedded defaults and default limits.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const PACE_MS = 150;

interface Started {
  port: number;
  ledgerPath: string;
  flood: string;
  good: string;
}

if (process.argv[2] === 'service') {
  const { readEnv } = await import('../src/config/read-env.js');
  const { createLogger } = await import('../src/platform/logger.js');
  const { startService } = await import('../src/app/service.js');
  const dir = mkdtempSync(join(tmpdir(), 'agov-bench-abuse-'));
  const config = join(dir, 'agent-governance.yml');
  // Default limits but the preflight rate (120 a minute), which the well-behaved agent's 400 a
  // minute would pass: its answers would be denies of its own making.
  writeFileSync(config, 'agent_api: { preflights_per_minute: 600 }\n');
  const ledgerPath = join(dir, 'ledger.db');
  const service = await startService(
    readEnv({
      ...process.env,
      LEDGER_PATH: ledgerPath,
      GOVERNANCE_CONFIG: config,
      PORT: '0',
      HOST: '127.0.0.1',
      CHECKPOINT_INTERVAL_MINUTES: '0',
    }),
    createLogger('silent'),
  );
  const register = async (id: string) =>
    (await service.runtime.governance.registerAgent({ id, tier: 'T2' }, 'bench')).token;
  const started: Started = {
    port: service.port,
    ledgerPath,
    flood: await register('flood-bot'),
    good: await register('good-bot'),
  };
  process.send!(started);
} else if (process.argv[2] === 'flood') {
  const { default: autocannon } = await import('autocannon');
  const { port, token } = JSON.parse(process.argv[3]!) as { port: number; token: string };
  const headers = (t: string) => ({ authorization: `Bearer ${t}`, 'content-type': 'application/json' });
  const result = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: CONNECTIONS,
    duration: SECONDS,
    requests: [
      {
        method: 'POST',
        path: '/api/v1/events',
        headers: headers(token),
        body: JSON.stringify({ event: 'execution_started', data: { spam: 'x'.repeat(200) } }),
      },
      {
        method: 'POST',
        path: '/api/v1/locks',
        headers: headers(token),
        body: JSON.stringify({ ttlSeconds: 30 }),
      },
      {
        method: 'POST',
        path: '/api/v1/events',
        headers: headers('agov_flood-bot_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'),
        body: JSON.stringify({ event: 'execution_started' }),
      },
    ],
  });
  process.send!({
    total: result.requests.total,
    perSecond: Math.round(result.requests.average),
    ok: result['2xx'],
    refused: result.non2xx,
    errors: result.errors,
  });
} else {
  const here = fileURLToPath(import.meta.url);
  const child = fork(here, ['service'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const s = await new Promise<Started>((resolve) => child.once('message', resolve as never));
  const base = `http://127.0.0.1:${s.port}/api/v1`;
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(s.ledgerPath, { readonly: true, fileMustExist: true });
  const head = () =>
    (db.prepare('SELECT COALESCE(MAX(seq), 0) AS n FROM ledger_entries').get() as { n: number }).n;
  // The database's size as a reader sees it (committed pages, WAL included): the WAL file itself
  // is reused and says nothing about growth.
  const bytes = () =>
    (db.pragma('page_count', { simple: true }) as number) *
    (db.pragma('page_size', { simple: true }) as number);
  const post = (path: string, body: unknown) =>
    fetch(`${base}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.good}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  /** The well-behaved agent: a preflight and an event every PACE_MS for SECONDS. */
  const work = async () => {
    const times: number[] = [];
    let errors = 0;
    const until = performance.now() + SECONDS * 1000;
    while (performance.now() < until) {
      const started = performance.now();
      for (const [path, body] of [
        ['/preflight', { action: 'push', repository: 'acme/web', paths: ['src/app.ts'] }],
        ['/events', { event: 'plan_created', data: { step: times.length } }],
      ] as const) {
        const t = performance.now();
        try {
          const res = await post(path, body);
          const answer = (await res.json()) as { decision?: string };
          if (res.status !== 200 || answer.decision === 'deny') errors++;
        } catch {
          errors++;
        }
        times.push(performance.now() - t);
      }
      const left = PACE_MS - (performance.now() - started);
      if (left > 0) await new Promise((r) => setTimeout(r, left));
    }
    const sorted = times.sort((a, b) => a - b);
    return {
      requests: times.length,
      errors,
      p50: sorted[Math.floor(sorted.length * 0.5)]!,
      p99: sorted[Math.floor(sorted.length * 0.99)]!,
    };
  };

  /** Runs `during` beside the good agent and reports the ledger's growth, per minute. */
  const phase = async (during: () => Promise<unknown>) => {
    const [entries0, bytes0, t0] = [head(), bytes(), performance.now()];
    const [good, other] = await Promise.all([work(), during()]);
    const minutes = (performance.now() - t0) / 60_000;
    return {
      good,
      other,
      entriesPerMinute: Math.round((head() - entries0) / minutes),
      bytesPerMinute: Math.round((bytes() - bytes0) / minutes),
    };
  };

  const quiet = await phase(async () => null);
  const flooded = await phase(
    () =>
      new Promise((resolve) => {
        const flood = fork(here, ['flood', JSON.stringify({ port: s.port, token: s.flood })], {
          stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        });
        flood.once('message', resolve);
      }),
  );
  db.close();
  child.kill();

  const ms = (n: number) => `${n.toFixed(1)} ms`;
  const mb = (n: number) => `${(n / 1024 / 1024).toFixed(2)} MB`;
  const f = flooded.other as {
    total: number;
    perSecond: number;
    ok: number;
    refused: number;
    errors: number;
  };
  console.log(`phases:               ${SECONDS} s each; good-bot: preflight + event every ${PACE_MS} ms`);
  console.log(
    `without flood:        good-bot ${quiet.good.requests} requests, ${quiet.good.errors} errors, p50 ${ms(quiet.good.p50)}, p99 ${ms(quiet.good.p99)}`,
  );
  console.log(
    `with flood:           good-bot ${flooded.good.requests} requests, ${flooded.good.errors} errors, p50 ${ms(flooded.good.p50)}, p99 ${ms(flooded.good.p99)}`,
  );
  console.log(
    `flood-bot:            ${f.total} requests (${f.perSecond}/s, ${CONNECTIONS} connections; events, locks, bad tokens): ${f.ok} 2xx, ${f.refused} refused (429/401/409), ${f.errors} socket errors`,
  );
  console.log(
    `ledger growth/minute: ${quiet.entriesPerMinute} entries, ${mb(quiet.bytesPerMinute)} without flood; ${flooded.entriesPerMinute} entries, ${mb(flooded.bytesPerMinute)} with flood`,
  );
  console.log(`ratio: ${(flooded.good.p99 / quiet.good.p99).toFixed(2)}`);
}
