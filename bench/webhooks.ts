/**
 * Signed `pull_request` deliveries against the running service, its GitHub API pointed at a
 * stand-in on loopback. Prints deliveries acknowledged per second (p50/p99), decisions completed per
 * second with delivery-to-check-run p50/p99, and, in the same run, a no-op Probot app's
 * acknowledgements per second on the same payloads. Ends with `ratio: X` (ours over the no-op's).
 *
 * The service and the baseline each run in a child process; the client and the GitHub stand-in run
 * here.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sign } from '@octokit/webhooks-methods';

const N = Number(process.env.BENCH_DELIVERIES ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const SECRET = 'bench-secret';
const self = fileURLToPath(import.meta.url);

if (process.argv[2] === 'noop') {
  // The baseline: Probot's own middleware with a handler that does nothing.
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
} else if (process.argv[2] === 'service') {
  const { readEnv } = await import('../src/config/read-env.js');
  const { createLogger } = await import('../src/platform/logger.js');
  const { startService } = await import('../src/app/service.js');
  const service = await startService(readEnv(process.env), createLogger('silent'));
  process.send!({ port: service.port });
} else {
  await main();
}

async function main() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const completedAt = new Map<string, number>();
  const standIn = await githubStandIn(completedAt);
  const dir = mkdtempSync(join(tmpdir(), 'agov-bench-webhooks-'));
  const config = join(dir, 'agent-governance.yml');
  writeFileSync(config, 'agents:\n  - { id: docs-bot, tier: T1, github_logins: ["docs-bot[bot]"] }\n');

  const payloads = await Promise.all(
    Array.from({ length: N }, async (_, i) => {
      const sha = i.toString(16).padStart(40, '0');
      const body = JSON.stringify(pullRequestPayload(i + 1, sha));
      return { sha, body, signature: await sign(SECRET, body) };
    }),
  );

  const noop = await child('noop', { PRIVATE_KEY: pem });
  const baseline = await send(noop.port, payloads, new Map());
  noop.process.kill();

  const service = await child('service', {
    PRIVATE_KEY: pem,
    APP_ID: '1',
    WEBHOOK_SECRET: SECRET,
    GHE_HOST: `127.0.0.1:${standIn.port}`,
    GHE_PROTOCOL: 'http',
    LEDGER_PATH: join(dir, 'ledger.db'),
    GOVERNANCE_CONFIG: config,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
    CHECKPOINT_INTERVAL_MINUTES: '0',
  });
  const sentAt = new Map<string, number>();
  const ours = await send(service.port, payloads, sentAt);
  const deadline = Date.now() + 120_000;
  while (completedAt.size < N && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  service.process.kill();
  standIn.server.close();

  const latencies = payloads
    .filter((p) => completedAt.has(p.sha))
    .map((p) => completedAt.get(p.sha)! - sentAt.get(p.sha)!);
  const firstSent = Math.min(...sentAt.values());
  const lastDone = Math.max(...completedAt.values());
  console.log(`deliveries:                 ${N} (concurrency ${CONCURRENCY})`);
  console.log(
    `no-op Probot acks/s:        ${baseline.perSecond}   p50 ${baseline.p50} ms, p99 ${baseline.p99} ms`,
  );
  console.log(
    `agent-governance acks/s:    ${ours.perSecond}   p50 ${ours.p50} ms, p99 ${ours.p99} ms   (signature checked, payload validated, stored with its ledger entry)`,
  );
  console.log(
    `decisions completed:        ${completedAt.size} of ${N}, ${Math.round((completedAt.size / (lastDone - firstSent)) * 1000)}/s`,
  );
  console.log(`delivery to check run:      p50 ${pct(latencies, 50)} ms, p99 ${pct(latencies, 99)} ms`);
  console.log(`ratio: ${(ours.perSecond / baseline.perSecond).toFixed(2)}`);
}

async function send(
  port: number,
  payloads: { sha: string; body: string; signature: string }[],
  sentAt: Map<string, number>,
) {
  const times: number[] = [];
  let next = 0;
  const start = performance.now();
  const worker = async () => {
    while (next < payloads.length) {
      const p = payloads[next++]!;
      const t = performance.now();
      sentAt.set(p.sha, Date.now());
      const res = await fetch(`http://127.0.0.1:${port}/api/github/webhooks`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-github-event': 'pull_request',
          'x-github-delivery': crypto.randomUUID(),
          'x-hub-signature-256': p.signature,
        },
        body: p.body,
      });
      await res.arrayBuffer();
      if (res.status >= 300) throw new Error(`delivery refused: HTTP ${res.status}`);
      times.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const seconds = (performance.now() - start) / 1000;
  return { perSecond: Math.round(payloads.length / seconds), p50: pct(times, 50), p99: pct(times, 99) };
}

function pct(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! * 10) / 10;
}

async function child(
  mode: string,
  env: Record<string, string>,
): Promise<{ process: ChildProcess; port: number }> {
  const proc = fork(self, [mode], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    proc.once('message', (m: { port: number }) => resolve(m.port));
    proc.once('exit', (code) => reject(new Error(`${mode} exited with ${code}`)));
  });
  return { process: proc, port };
}

/** GitHub's REST API as the service uses it, under /api/v3 as on GitHub Enterprise Server. */
async function githubStandIn(completedAt: Map<string, number>) {
  const checkRunSha = new Map<number, string>();
  let nextId = 1;
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString()) : {};
    const url = new URL(req.url!, 'http://x');
    const json = (status: number, data: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(data));
    };
    const path = url.pathname.replace(/^\/api\/v3/, '');
    if (path.startsWith('/app/installations/'))
      return json(201, { token: 'ghs_bench', expires_at: '2099-01-01T00:00:00Z' });
    if (path.includes('/contents/')) return json(404, { message: 'Not Found' });
    if (path.endsWith('/commits')) return json(200, [{ sha: 'c', commit: { message: 'docs' } }]);
    if (path.endsWith('/files')) {
      return json(200, [
        {
          sha: 'b',
          filename: 'docs/guide.md',
          status: 'modified',
          additions: 1,
          deletions: 0,
          changes: 1,
          patch: '@@ -1 +1 @@\n+words',
        },
      ]);
    }
    if (req.method === 'POST' && path.endsWith('/check-runs')) {
      const id = nextId++;
      checkRunSha.set(id, body.head_sha);
      if (body.status === 'completed') completedAt.set(body.head_sha, Date.now());
      return json(201, { id });
    }
    const update = /\/check-runs\/(\d+)$/.exec(path);
    if (req.method === 'PATCH' && update) {
      if (body.status === 'completed') completedAt.set(checkRunSha.get(Number(update[1]))!, Date.now());
      return json(200, { id: Number(update[1]) });
    }
    json(404, { message: `stand-in has no ${req.method} ${path}` });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { server, port: (server.address() as AddressInfo).port };
}

function pullRequestPayload(number: number, sha: string) {
  return {
    action: 'opened',
    number,
    installation: { id: 1 },
    repository: { full_name: 'acme/web', name: 'web', owner: { login: 'acme' }, default_branch: 'main' },
    pull_request: {
      number,
      title: `Docs update ${number}`,
      html_url: `https://github.com/acme/web/pull/${number}`,
      user: { login: 'docs-bot[bot]' },
      state: 'open',
      draft: false,
      head: { sha, ref: `docs-${number}` },
      base: { ref: 'main' },
    },
    sender: { login: 'docs-bot[bot]' },
  };
}
