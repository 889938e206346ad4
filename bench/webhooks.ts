/**
 * The webhook path under a user's load: the real `pull_request.opened` payload from
 * @octokit/webhooks-examples (about 23 KB), its author a registered agent, signed with
 * X-Hub-Signature-256 and sent with its own X-GitHub-Delivery and its own PR number and head SHA
 * each time, by autocannon, to a no-op Probot app and to this service, each in a child process.
 *
 * 1. Acknowledgements: 20 connections as fast as each side answers, the same duration for both.
 * 2. A fixed rate (default 200 PR events/s for 10 s) against a fresh service: decisions/s, delivery
 *    → completed check run p50/p95/p99 (the GitHub stand-in on loopback records when each commit's
 *    completed check run is written), GitHub calls per PR event by route, and what was still queued
 *    when the load stopped. autocannon's `overallRate` sends each second's share at the start of the
 *    second, so the rate comes from 20 one-connection clients started 1/20 s apart: a burst of ten
 *    every 50 ms, not two hundred at once.
 *
 * Ends with `ratio: X` (acknowledgements/s, ours over the no-op's), `calls per event: X` and
 * `p99 at 200/s: X ms`. Knobs: BENCH_SECONDS, BENCH_CONNECTIONS, BENCH_RATE, BENCH_RATE_SECONDS;
 * BENCH_PROFILE=<dir> writes a CPU profile of the service during the fixed-rate run there,
 * BENCH_PROFILE_ACK=<dir> one during the acknowledgements run.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { createHmac, generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Request } from 'autocannon';
import { type GithubStandIn, githubStandIn, TOKEN_ROUTE } from './github-stand-in.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 20);
const RATE = Number(process.env.BENCH_RATE ?? 200);
const RATE_SECONDS = Number(process.env.BENCH_RATE_SECONDS ?? 10);
const PROFILE_DIR = process.env.BENCH_PROFILE;
const SECRET = 'bench-secret';
const AGENT_LOGIN = 'docs-bot[bot]';
const self = fileURLToPath(import.meta.url);

/** The baseline: Probot's own middleware with a handler that does nothing. */
async function runNoopProbot() {
  const { Probot, createNodeMiddleware } = await import('probot');
  const probot = new Probot({
    appId: 1,
    privateKey: process.env.PRIVATE_KEY!,
    secret: SECRET,
    logLevel: 'fatal',
  });
  const middleware = await createNodeMiddleware(
    (app) => {
      app.on('pull_request', async () => {});
    },
    { probot },
  );
  const server = createServer((req, res) => {
    void middleware(req, res, () => {
      res.writeHead(404).end();
    });
  });
  server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as AddressInfo).port }));
}

/** This service; answers `depth` with what is still queued, and exits on `stop` (writing any profile). */
async function runService() {
  const { readEnv } = await import('../src/config/read-env.js');
  const { createLogger } = await import('../src/platform/logger.js');
  const { startService } = await import('../src/app/service.js');
  const service = await startService(readEnv(process.env), createLogger('silent'));
  const { monitorEventLoopDelay } = await import('node:perf_hooks');
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  process.on('message', async (m: { type: string }) => {
    if (m.type === 'depth')
      process.send!({
        inbox: await service.github!.pendingDeliveries(),
        outbox: await service.runtime.store.outbox.pendingCount('github'),
        cpuMs: (process.cpuUsage().user + process.cpuUsage().system) / 1000,
        loopDelayP99Ms: delay.percentile(99) / 1e6,
        loopDelayMaxMs: delay.max / 1e6,
      });
    if (m.type === 'stop') process.exit(0);
  });
  process.send!({ port: service.port });
}

async function main() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const github = await githubStandIn();
  const prs = new PullRequestEvents();
  const load = loadavg().map((l) => l.toFixed(2));

  const noop = await child('noop', { PRIVATE_KEY: pem });
  const baseline = await acknowledge(noop.port, prs.phase());
  noop.process.kill();

  const saturated = await child('service', serviceEnv(pem, github), process.env.BENCH_PROFILE_ACK);
  const saturatedPhase = prs.phase();
  const ours = await acknowledge(saturated.port, saturatedPhase);
  const decidedWhileSaturated = decidedBy(saturatedPhase.sentAt, github, Date.now());
  await stop(saturated);

  const fixed = await child('service', serviceEnv(pem, github), PROFILE_DIR);
  github.resetCalls();
  const before = await depth(fixed);
  const fixedPhase = prs.phase();
  const sent = await fixedRate(fixed.port, fixedPhase);
  const atEnd = await depth(fixed);
  await new Promise((r) => setTimeout(r, 1000));
  const afterSecond = await depth(fixed);
  const deadline = Date.now() + 30_000;
  while (decidedBy(fixedPhase.sentAt, github, Infinity) < sent.acknowledged && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 50));
  const after = await depth(fixed);
  const cpuMs = after.cpuMs - before.cpuMs;
  await stop(fixed);
  github.close();

  report({
    load,
    baseline,
    ours,
    decidedWhileSaturated,
    sent,
    atEnd,
    afterSecond,
    github,
    fixedPhase,
    cpuMs,
    after,
  });
}

function report(r: {
  load: string[];
  baseline: Acknowledged;
  ours: Acknowledged;
  decidedWhileSaturated: number;
  sent: { acknowledged: number; refused: number; seconds: number };
  atEnd: Depth;
  afterSecond: Depth;
  github: GithubStandIn;
  fixedPhase: Phase;
  cpuMs: number;
  after: Depth;
}) {
  const { github, fixedPhase, sent } = r;
  const latencies = [...fixedPhase.sentAt]
    .filter(([sha]) => github.completedAt.has(sha))
    .map(([sha, at]) => github.completedAt.get(sha)! - at);
  const firstSent = Math.min(...fixedPhase.sentAt.values());
  const lastDone = Math.max(firstSent, ...completions(fixedPhase, github));
  const charged = [...github.calls].filter(([route]) => route !== TOKEN_ROUTE);
  const callsPerEvent = charged.reduce((n, [, c]) => n + c, 0) / Math.max(1, sent.acknowledged);
  console.log(`load average before the run: ${r.load.join(' ')} (2 cores shared)`);
  console.log(
    `payload: pull_request.opened from @octokit/webhooks-examples, author ${AGENT_LOGIN} (an agent)`,
  );
  console.log(`acknowledgements, ${CONNECTIONS} connections, ${SECONDS} s each:`);
  console.log(`  no-op Probot:      ${line(r.baseline)}`);
  console.log(`  agent-governance:  ${line(r.ours)}`);
  console.log(
    `  decided meanwhile: ${r.decidedWhileSaturated} of ${r.ours.acknowledged} (${perSecond(r.decidedWhileSaturated, r.ours.seconds)}/s)`,
  );
  console.log(`fixed rate: ${RATE} PR events/s for ${RATE_SECONDS} s (fresh service)`);
  console.log(
    `  acknowledged:      ${sent.acknowledged} (refused ${sent.refused}) in ${sent.seconds.toFixed(1)} s`,
  );
  console.log(
    `  decided:           ${latencies.length} of ${sent.acknowledged}, ${perSecond(latencies.length, (lastDone - firstSent) / 1000)}/s`,
  );
  console.log(
    `  delivery → completed check run: p50 ${pct(latencies, 50)} ms, p95 ${pct(latencies, 95)} ms, p99 ${pct(latencies, 99)} ms, max ${pct(latencies, 100)} ms`,
  );
  console.log(
    `  service CPU:       ${(r.cpuMs / Math.max(1, sent.acknowledged)).toFixed(2)} ms per PR event`,
  );
  console.log(
    `  event-loop delay:  p99 ${r.after.loopDelayP99Ms.toFixed(1)} ms, max ${r.after.loopDelayMaxMs.toFixed(1)} ms (since the service started)`,
  );
  console.log(`  queued when the load stopped: inbox ${r.atEnd.inbox}, outbox ${r.atEnd.outbox}`);
  console.log(`  queued 1 s later:             inbox ${r.afterSecond.inbox}, outbox ${r.afterSecond.outbox}`);
  console.log('  GitHub calls per PR event by route:');
  for (const [route, n] of [...github.calls].sort((a, b) => b[1] - a[1]))
    console.log(
      `    ${(n / Math.max(1, sent.acknowledged)).toFixed(3).padStart(6)}  ${route}${route === TOKEN_ROUTE ? ' (not charged)' : ''}`,
    );
  console.log(`ratio: ${(r.ours.perSecond / r.baseline.perSecond).toFixed(2)}`);
  console.log(`calls per event: ${callsPerEvent.toFixed(2)}`);
  console.log(`p99 at ${RATE}/s: ${pct(latencies, 99)} ms`);
}

interface Acknowledged {
  perSecond: number;
  acknowledged: number;
  refused: number;
  seconds: number;
  p50: number;
  p99: number;
}

const line = (a: Acknowledged) =>
  `${a.perSecond}/s   p50 ${a.p50} ms, p99 ${a.p99} ms${a.refused ? `   (${a.refused} refused!)` : ''}`;

/** As fast as the server answers, CONNECTIONS at once, for SECONDS. */
async function acknowledge(port: number, phase: Phase): Promise<Acknowledged> {
  const { default: autocannon } = await import('autocannon');
  const result = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: CONNECTIONS,
    duration: SECONDS,
    requests: [{ setupRequest: (req) => phase.next(req) }],
  });
  const acknowledged = result['2xx'];
  return {
    perSecond: Math.round(acknowledged / result.duration),
    acknowledged,
    refused: result.non2xx + result.errors + result.timeouts,
    seconds: result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
  };
}

/** RATE events a second for RATE_SECONDS, from CONNECTIONS one-connection clients a 1/CONNECTIONS s apart. */
async function fixedRate(port: number, phase: Phase) {
  const { default: autocannon } = await import('autocannon');
  const start = performance.now();
  const runs = Array.from({ length: CONNECTIONS }, async (_, i) => {
    const rate = Math.floor(RATE / CONNECTIONS) + (i < RATE % CONNECTIONS ? 1 : 0);
    await new Promise((r) => setTimeout(r, (i * 1000) / CONNECTIONS));
    return autocannon({
      url: `http://127.0.0.1:${port}`,
      connections: 1,
      overallRate: rate,
      amount: rate * RATE_SECONDS,
      requests: [{ setupRequest: (req) => phase.next(req) }],
    });
  });
  const results = await Promise.all(runs);
  return {
    acknowledged: results.reduce((n, r) => n + r['2xx'], 0),
    refused: results.reduce((n, r) => n + r.non2xx + r.errors + r.timeouts, 0),
    seconds: (performance.now() - start) / 1000,
  };
}

interface Phase {
  /** When each PR event (by head SHA) was sent. */
  sentAt: Map<string, number>;
  next(req: Request): Request;
}

/**
 * The real payload with a new PR number and head SHA each time, signed as GitHub signs it, with a
 * delivery id of its own.
 */
class PullRequestEvents {
  private readonly parts: string[];
  private count = 0;

  constructor() {
    const examples = createRequire(import.meta.url)(
      '@octokit/webhooks-examples/api.github.com/index.json',
    ) as {
      name: string;
      examples: Record<string, any>[];
    }[];
    const group = examples.find((e) => e.name === 'pull_request')!;
    const payload = structuredClone(group.examples.find((x) => x.action === 'opened' && x.installation)!);
    payload.installation = { id: 1 };
    payload.pull_request.user.login = AGENT_LOGIN;
    payload.number = payload.pull_request.number = 999_999_999;
    payload.pull_request.head.sha = 'HEAD_SHA';
    // Split around the two markers, which stay in the list as the places to fill in.
    this.parts = JSON.stringify(payload).split(/(999999999|"HEAD_SHA")/);
  }

  phase(): Phase {
    const sentAt = new Map<string, number>();
    return {
      sentAt,
      next: (req) => {
        const n = ++this.count;
        const sha = n.toString(16).padStart(40, '0');
        const body = this.parts
          .map((p) => (p === '999999999' ? `${n}` : p === '"HEAD_SHA"' ? `"${sha}"` : p))
          .join('');
        sentAt.set(sha, Date.now());
        return {
          ...req,
          method: 'POST',
          path: '/api/github/webhooks',
          headers: {
            'content-type': 'application/json',
            'x-github-event': 'pull_request',
            'x-github-delivery': randomUUID(),
            'x-hub-signature-256': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`,
          },
          body,
        };
      },
    };
  }
}

function completions(phase: Phase, github: GithubStandIn): number[] {
  return [...phase.sentAt.keys()].flatMap((sha) => github.completedAt.get(sha) ?? []);
}

function decidedBy(sentAt: Map<string, number>, github: GithubStandIn, until: number): number {
  let n = 0;
  for (const sha of sentAt.keys()) {
    const at = github.completedAt.get(sha);
    if (at !== undefined && at <= until) n++;
  }
  return n;
}

const perSecond = (n: number, seconds: number) => Math.round(n / seconds);

function pct(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function serviceEnv(pem: string, github: GithubStandIn): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'agov-bench-webhooks-'));
  const config = join(dir, 'agent-governance.yml');
  // The agent is registered in the service's ledger at start, from the organisation's config.
  writeFileSync(config, `agents:\n  - { id: docs-bot, tier: T1, github_logins: ["${AGENT_LOGIN}"] }\n`);
  return {
    PRIVATE_KEY: pem,
    APP_ID: '1',
    WEBHOOK_SECRET: SECRET,
    GHE_HOST: `127.0.0.1:${github.port}`,
    GHE_PROTOCOL: 'http',
    LEDGER_PATH: join(dir, 'ledger.db'),
    GOVERNANCE_CONFIG: config,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    CHECKPOINT_INTERVAL_MINUTES: '0',
  };
}

interface Depth {
  inbox: number;
  outbox: number;
  /** CPU the service process has used (user and system), in ms. */
  cpuMs: number;
  /** How late the service's event loop ran, since it started. */
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
}

interface Child {
  process: ChildProcess;
  port: number;
}

function depth(c: Child): Promise<Depth> {
  return new Promise((resolve) => {
    c.process.once('message', (m: Depth) => resolve(m));
    c.process.send({ type: 'depth' });
  });
}

async function stop(c: Child): Promise<void> {
  const exited = new Promise((r) => c.process.once('exit', r));
  c.process.send({ type: 'stop' });
  await exited;
}

async function child(mode: string, env: Record<string, string>, profileDir?: string): Promise<Child> {
  const proc = fork(self, [mode], {
    env: { ...process.env, ...env },
    execArgv: profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    proc.once('message', (m: { port: number }) => resolve(m.port));
    proc.once('exit', (code) => reject(new Error(`${mode} exited with ${code}`)));
  });
  return { process: proc, port };
}

// Last: the classes and constants above are initialised by now.
if (process.argv[2] === 'noop') await runNoopProbot();
else if (process.argv[2] === 'service') await runService();
else await main();
