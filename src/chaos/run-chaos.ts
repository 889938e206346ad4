import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openRuntime } from '../app/open-runtime.js';
import { AgentClient } from '../client/index.js';
import { readEnv } from '../config/read-env.js';
import { GithubStandIn } from '../demo/github-stand-in.js';
import { SlackStandIn } from '../demo/slack-stand-in.js';
import { STAND_IN_POLICY, standInEnv } from '../demo/stand-in-env.js';
import { approveButtonValue, clickApprove, deliverPullRequest } from '../demo/stand-in-requests.js';
import { VaultStandIn } from '../demo/vault-stand-in.js';
import { openLedger } from '../ledger/ledger.js';
import { backlog } from '../ledger/queries/admin.js';
import { checkInvariants, type InvariantResult, type Observed } from './invariants.js';
import { freePort, PrivateRedis } from './private-redis.js';
import { seededRandom } from './seeded-random.js';

export const CHAOS_FAULTS = ['redis', 'github', 'slack', 'vault', 'service'] as const;
export type ChaosFault = (typeof CHAOS_FAULTS)[number];

export interface ChaosOptions {
  agents: number;
  durationMs: number;
  seed: number;
  faults: ChaosFault[];
  /** A deliberately broken build, to show the run catches it: lock releases ignore fencing. */
  defect?: 'no-fencing';
  print?: (line: string) => void;
}

export interface ChaosReport {
  ok: boolean;
  invariants: InvariantResult[];
  stats: Record<string, number>;
}

const WEBHOOK_SECRET = 'chaos-webhook-secret';
const SLACK_SECRET = 'chaos-slack-secret';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The service's own process (built JavaScript): beside this file when built, else the build of the sources. */
function serviceEntry(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const candidate of [
    join(here, 'service-process.js'),
    resolve(here, '../../dist/src/chaos/service-process.js'),
  ])
    if (existsSync(candidate)) return candidate;
  throw new Error('the chaos run starts the built service: run `npm run build` first');
}

/** The service as a child process: started, killed with SIGKILL, started again on the same port. */
class ServiceProcess {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();

  constructor(private readonly env: Record<string, string>) {}

  async start(): Promise<void> {
    const child = spawn(process.execPath, [serviceEntry()], {
      env: { ...process.env, ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.exited = new Promise((r) => child.once('exit', () => r()));
    let errors = '';
    child.stderr!.on('data', (d: Buffer) => {
      errors = (errors + d.toString()).slice(-4000);
    });
    await new Promise<void>((resolveReady, reject) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('ready ')) resolveReady();
      });
      child.once('exit', (code) =>
        reject(new Error(`the service exited (${code}) before it was ready: ${errors}`)),
      );
    });
  }

  async kill(): Promise<void> {
    this.child?.kill('SIGKILL');
    await this.exited;
  }

  async stop(): Promise<void> {
    if (!this.child || this.child.exitCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
  }
}

/** Approval requests whose latest message in Slack still shows the buttons, as an approver sees them. */
function openApprovals(slack: SlackStandIn): string[] {
  const keyByTs = new Map<string, string>();
  const open = new Map<string, boolean>();
  for (const c of slack.calls) {
    if (c.method !== 'chat.postMessage' && c.method !== 'chat.update') continue;
    const key = approveButtonValue(c.args.blocks);
    if (c.method === 'chat.postMessage' && key) {
      keyByTs.set(c.ts, key);
      open.set(key, true);
    } else if (c.method === 'chat.update') {
      const known = keyByTs.get(c.ts);
      if (known) open.set(known, key !== null);
    }
  }
  return [...open].filter(([, o]) => o).map(([k]) => k);
}

/**
 * Many simulated agents and an approver against the real service, run as its own process (real
 * ledger, a private redis-server), with GitHub, Slack and Vault played on loopback, while faults are
 * injected on a schedule drawn from the seed: Redis killed, GitHub 502 and rate limits, Slack 429 and
 * 5xx, Vault sealed, the service killed with SIGKILL. At the end, with every fault cleared and the
 * work drained, the invariants are checked on the ledger and the stand-ins.
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const print = options.print ?? (() => {});
  // Each loop draws from its own generator, so its choices do not depend on how the loops interleave.
  const streams = new Map<string, () => number>();
  const randomFor = (name: string) => {
    if (!streams.has(name))
      streams.set(
        name,
        seededRandom(options.seed * 7919 + [...name].reduce((h, c) => h * 31 + c.charCodeAt(0), 0)),
      );
    return streams.get(name)!;
  };
  const redis = await PrivateRedis.start();
  const github = await new GithubStandIn().start();
  const slack = await new SlackStandIn().start();
  const vault = await new VaultStandIn().start();
  const dir = mkdtempSync(join(tmpdir(), 'agov-chaos-'));
  const ids = Array.from({ length: options.agents }, (_, i) => `chaos-${i}`);
  const config = join(dir, 'org.yml');
  writeFileSync(
    config,
    [
      'agents:',
      ...ids.map((id) => `  - { id: ${id}, tier: T2, owner: olivia, github_logins: ["${id}[bot]"] }`),
      'approvers: [{ github: alice, slack: UALICE }]',
      'slack: { approvals_channel: C0APPROVALS, notify: { agent_revoked: C0ALERTS }, approver_digest: { window_seconds: 1 } }',
      'agent_api: { lock_scope: repo, heartbeat_ttl_seconds: 2, preflights_per_minute: 100000 }',
      '',
    ].join('\n'),
  );
  github.policy = STAND_IN_POLICY;
  const ledgerPath = join(dir, 'ledger.db');
  const port = await freePort();
  const env: Record<string, string> = {
    LEDGER_PATH: ledgerPath,
    REDIS_URL: redis.url,
    GOVERNANCE_CONFIG: config,
    PORT: String(port),
    ...standInEnv(github, slack, { webhook: WEBHOOK_SECRET, slack: SLACK_SECRET }),
    VAULT_ADDR: vault.addr,
    VAULT_TOKEN: 'hvs.chaos-root',
    HEALTH_PROBE_INTERVAL_MS: '250',
    ...(options.defect ? { AGOV_CHAOS_DEFECT: options.defect } : {}),
  };
  // The agents and their tokens, as an admin would set them up with `agov agents add` before.
  const tokens = new Map<string, string>();
  const setup = await openRuntime(readEnv(env), { stateStore: 'memory' });
  try {
    await setup.governance.registerConfiguredAgents();
    for (const id of ids) tokens.set(id, await setup.governance.rotateToken(id, 'chaos'));
  } finally {
    await setup.close();
  }
  const service = new ServiceProcess(env);
  const base = `http://127.0.0.1:${port}`;

  const observed: Observed = {
    accepted: new Set<string>(),
    intervals: [],
    events: [],
    preflights: [],
    vaultTokens: new Map(),
  };
  const stats: Record<string, number> = {
    preflights: 0,
    locks: 0,
    events: 0,
    vaultTokens: 0,
    pullRequests: 0,
    clicks: 0,
    requestErrors: 0,
    faults: 0,
  };
  let prNumber = 0;
  let eventNumber = 0;
  let deadline = 0;

  const agentLoop = async (id: string, index: number) => {
    const random = randomFor(id);
    const client = new AgentClient({ baseUrl: base, token: tokens.get(id)! });
    const misbehaves = index % 4 === 3;
    while (Date.now() < deadline) {
      const roll = random();
      try {
        if (roll < 0.3) {
          stats.preflights!++;
          const answer = await client.preflight({
            action: 'push',
            repository: 'acme/web',
            paths: ['src/app.ts'],
          });
          observed.preflights.push({ agentId: id, seq: answer.seq, decision: answer.decision });
        } else if (roll < 0.6) {
          stats.locks!++;
          // Now and then an agent is slow: it lets its short lock lapse and releases it late, when
          // another may hold it. Fencing must refuse that release.
          const slow = random() < 0.25;
          const ttl = slow ? 1 : 30;
          const requestedAt = Date.now();
          const lock = await client.acquireLock(ttl, 'acme/web').catch(() => null);
          if (lock) {
            const start = Date.now();
            await sleep(slow ? 1300 : 20 + random() * 60);
            await client.heartbeat().catch(() => undefined);
            observed.intervals.push({
              key: lock.lockKey,
              agentId: id,
              start,
              end: Math.min(Date.now(), requestedAt + ttl * 1000),
            });
            await client.releaseLock(lock).catch(() => undefined);
          }
        } else if (roll < 0.7) {
          stats.events!++;
          const eventId = `${id}-${++eventNumber}`;
          const answer = await client.event('execution_started', { chaosEventId: eventId });
          observed.events.push({ eventId, agentId: id, seq: answer.seq });
        } else if (roll < 0.8) {
          stats.vaultTokens!++;
          const issued = await client.vaultToken();
          observed.vaultTokens.set(id, [...(observed.vaultTokens.get(id) ?? []), issued.accessor]);
        } else {
          stats.pullRequests!++;
          const number = ++prNumber;
          const kind = misbehaves && random() < 0.5 ? 'secret' : random() < 0.3 ? 'legal' : 'docs';
          const file =
            kind === 'secret'
              ? {
                  filename: 'docs/setup.md',
                  patch: '@@ -1 +1,2 @@\n x\n+aws_access_key_id = AKIAIOSFODNN7EXAMPLE',
                }
              : kind === 'legal'
                ? { filename: 'docs/legal/terms.md', patch: '@@ -1 +1,2 @@\n x\n+clause' }
                : { filename: `docs/page-${number}.md`, patch: '@@ -1 +1,2 @@\n x\n+words' };
          github.pulls.set(number, {
            number,
            title: `Change ${number}`,
            author: `${id}[bot]`,
            headSha: number.toString(16).padStart(40, 'c'),
            files: [file],
          });
          const deliveryId = `chaos-${options.seed}-${number}`;
          for (let attempt = 0; attempt < 100; attempt++) {
            const res = await deliverPullRequest(
              base,
              WEBHOOK_SECRET,
              github.pullRequestPayload(number),
              deliveryId,
            ).catch(() => null);
            // GitHub redelivers with the same id until a 2xx: a restarting service loses nothing.
            if (res && res.status < 300) {
              observed.accepted.add(deliveryId);
              break;
            }
            await sleep(100);
          }
        }
      } catch {
        stats.requestErrors!++;
      }
      await sleep(30 + random() * 100);
    }
  };

  /** An approver in Slack: clicks Approve on every request still showing its buttons. */
  const approverLoop = async (until: () => boolean) => {
    const clickedAt = new Map<string, number>();
    while (!until()) {
      for (const key of openApprovals(slack)) {
        if (Date.now() - (clickedAt.get(key) ?? 0) < 1500) continue; // a lost click is clicked again
        clickedAt.set(key, Date.now());
        stats.clicks!++;
        await clickApprove(base, SLACK_SECRET, 'UALICE', key).catch(() => undefined);
      }
      await sleep(200);
    }
  };

  const faultLoop = async () => {
    const random = randomFor('faults');
    if (options.faults.length === 0) return;
    while (Date.now() < deadline - 500) {
      await sleep(400 + random() * 1200);
      if (Date.now() >= deadline - 500) break;
      const fault = options.faults[Math.floor(random() * options.faults.length)]!;
      stats.faults!++;
      stats[`fault.${fault}`] = (stats[`fault.${fault}`] ?? 0) + 1;
      print(`  fault: ${fault}`);
      if (fault === 'redis') {
        await redis.kill();
        await sleep(300 + random() * 500);
        await redis.restart();
      } else if (fault === 'github') {
        github.failWith = 502;
        await sleep(300 + random() * 400);
        github.failWith = 403;
        await sleep(200 + random() * 300);
        github.failWith = null;
      } else if (fault === 'slack') {
        slack.failWith = 429;
        await sleep(300 + random() * 300);
        slack.failWith = 503;
        await sleep(200 + random() * 300);
        slack.failWith = null;
      } else if (fault === 'vault') {
        vault.sealed = true;
        await sleep(300 + random() * 500);
        vault.sealed = false;
      } else if (fault === 'service') {
        await service.kill();
        await sleep(100 + random() * 300);
        await service.start();
      }
    }
  };

  try {
    print(
      `chaos: ${options.agents} agents, ${options.durationMs / 1000} s, seed ${options.seed}, faults ${options.faults.join(',') || 'none'}${options.defect ? `, defect ${options.defect}` : ''}`,
    );
    await service.start();
    deadline = Date.now() + options.durationMs;
    let stopClicking = false;
    const approver = approverLoop(() => stopClicking);
    await Promise.all([...ids.map((id, i) => agentLoop(id, i)), faultLoop()]);
    // The approver stops too: a click during the drain would queue new calls behind its end.
    stopClicking = true;
    await approver;
    // Recovery: every fault cleared; the service drains what waited, on its own.
    github.failWith = null;
    slack.failWith = null;
    vault.sealed = false;
    const recoveryStart = Date.now();
    const db = openLedger(ledgerPath, { readonly: true, mustExist: true });
    try {
      const quiet = () => {
        const { outbox, inbox } = backlog(db);
        const open = [...github.pulls.values()].some(
          (pr) => github.checkOn(pr.headSha)?.status !== 'completed',
        );
        return outbox + inbox === 0 && !open;
      };
      const waiting = backlog(db);
      print(`  recovery: ${waiting.inbox} deliveries and ${waiting.outbox} calls waiting`);
      // Quiet for 3 s: longer than a heartbeat's TTL, so a lapse found by upkeep after the agents
      // stopped is drained too.
      let calm = 0;
      for (let i = 0; i < 600 && calm < 15; i++) {
        calm = quiet() ? calm + 1 : 0;
        await sleep(200);
      }
    } finally {
      db.close();
    }
    print(`  recovery: drained in ${((Date.now() - recoveryStart) / 1000).toFixed(1)} s`);
    await service.stop();
    const ledger = openLedger(ledgerPath, { readonly: true, mustExist: true });
    try {
      const invariants = checkInvariants(ledger, { github, slack, vault }, observed);
      return { ok: invariants.every((i) => i.ok), invariants, stats };
    } finally {
      ledger.close();
    }
  } finally {
    await service.stop().catch(() => undefined);
    github.stop();
    slack.stop();
    vault.stop();
    await redis.stop();
  }
}
