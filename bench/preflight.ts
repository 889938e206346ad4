/**
 * Preflight decisions per second and p99 over HTTP, beside a bare route (`GET /healthz`) on the
 * same server in the same run. Ends with `ratio: X` (preflights per second over bare requests per
 * second). The service runs in a child process on its embedded defaults; the client runs here.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const N = Number(process.env.BENCH_REQUESTS ?? 5000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);

if (process.argv[2] === 'service') {
  const { readEnv } = await import('../src/config/read-env.js');
  const { createLogger } = await import('../src/platform/logger.js');
  const { startService } = await import('../src/app/service.js');
  const dir = mkdtempSync(join(tmpdir(), 'agov-bench-preflight-'));
  // A rate limit high enough that every answer is a full evaluation, not an early "slow down".
  const config = join(dir, 'agent-governance.yml');
  writeFileSync(config, 'agent_api: { preflights_per_minute: 100000000, requests_per_minute: 100000000 }\n');
  const service = await startService(
    readEnv({
      ...process.env,
      LEDGER_PATH: join(dir, 'ledger.db'),
      GOVERNANCE_CONFIG: config,
      PORT: '0',
      HOST: '127.0.0.1',
      CHECKPOINT_INTERVAL_MINUTES: '0',
    }),
    createLogger('silent'),
  );
  const { token } = await service.runtime.governance.registerAgent({ id: 'bench-bot', tier: 'T2' }, 'bench');
  // CPU time on request: it varies less than throughput on a machine other work shares.
  process.on('message', () => process.send!(process.cpuUsage()));
  process.send!({ port: service.port, token });
} else {
  const child = fork(fileURLToPath(import.meta.url), ['service'], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const { port, token } = await new Promise<{ port: number; token: string }>((resolve) =>
    child.once('message', resolve as never),
  );
  const base = `http://127.0.0.1:${port}`;
  const preflightBody = JSON.stringify({
    action: 'push',
    repository: 'acme/web',
    paths: ['src/app.ts', 'test/app.test.ts'],
  });

  /** The service's CPU time so far (user + system), in microseconds. */
  const serviceCpu = async () => {
    const answer = new Promise<NodeJS.CpuUsage>((resolve) => child.once('message', resolve as never));
    child.send('cpu');
    const { user, system } = await answer;
    return user + system;
  };

  const run = async (request: () => Promise<Response>) => {
    const times: number[] = [];
    let sent = 0;
    const cpuBefore = await serviceCpu();
    const start = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (sent++ < N) {
          const t = performance.now();
          const res = await request();
          const body = (await res.json()) as { decision?: string };
          if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
          if (body.decision === 'deny')
            throw new Error('a benchmark preflight was denied; the figures would not be full evaluations');
          times.push(performance.now() - t);
        }
      }),
    );
    const perSecond = Math.round((N / (performance.now() - start)) * 1000);
    const cpuPerRequest = Math.round(((await serviceCpu()) - cpuBefore) / N);
    const sorted = times.sort((a, b) => a - b);
    return {
      perSecond,
      cpuPerRequest,
      p50: sorted[Math.floor(sorted.length * 0.5)]!.toFixed(1),
      p99: sorted[Math.floor(sorted.length * 0.99)]!.toFixed(1),
    };
  };

  const bare = await run(() => fetch(`${base}/healthz`));
  const preflight = await run(() =>
    fetch(`${base}/api/v1/preflight`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: preflightBody,
    }),
  );
  child.kill();
  console.log(`requests:            ${N} (concurrency ${CONCURRENCY}), in-process state store`);
  console.log(
    `bare route/s:        ${bare.perSecond}   p50 ${bare.p50} ms, p99 ${bare.p99} ms   (GET /healthz)`,
  );
  console.log(
    `preflight/s:         ${preflight.perSecond}   p50 ${preflight.p50} ms, p99 ${preflight.p99} ms   (token checked, 7 checks, decision in the ledger)`,
  );
  console.log(
    `service CPU/request: ${bare.cpuPerRequest} µs bare, ${preflight.cpuPerRequest} µs preflight (cpu ratio: ${(bare.cpuPerRequest / preflight.cpuPerRequest).toFixed(2)})`,
  );
  console.log(`ratio: ${(preflight.perSecond / bare.perSecond).toFixed(2)}`);
}
