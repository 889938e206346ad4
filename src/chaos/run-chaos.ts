import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentClient } from '../client/index.js';
import { readEnv } from '../config/read-env.js';
import {
  clickApprove,
  deliverPullRequest,
  GithubStandIn,
  SlackStandIn,
  STAND_IN_POLICY,
  standInEnv,
} from '../demo/stand-ins.js';
import { createBreaker } from '../integrations/resilience.js';
import { createLogger } from '../logger.js';
import { type RunningService, startService } from '../service.js';
import { checkInvariants, type InvariantResult, type LockInterval } from './invariants.js';
import { freePort, PrivateRedis } from './private-redis.js';
import { seededRandom } from './seeded-random.js';

export const CHAOS_FAULTS = ['redis', 'github', 'slack', 'service'] as const;
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

/**
 * Many simulated agents and an approver against the real service (real ledger, a private
 * redis-server), GitHub and Slack played on loopback, while faults are injected on a schedule drawn
 * from the seed. At the end, with every fault cleared and the work drained, the invariants are checked.
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
  const dir = mkdtempSync(join(tmpdir(), 'agov-chaos-'));
  const ids = Array.from({ length: options.agents }, (_, i) => `chaos-${i}`);
  const config = join(dir, 'org.yml');
  writeFileSync(
    config,
    [
      'agents:',
      ...ids.map((id) => `  - { id: ${id}, tier: T2, owner: olivia, github_logins: ["${id}[bot]"] }`),
      'approvers: [{ github: alice, slack: UALICE }]',
      'slack: { approvals_channel: C0APPROVALS, notify: { agent_revoked: C0ALERTS } }',
      'agent_api: { lock_scope: repo, heartbeat_ttl_seconds: 2, preflights_per_minute: 100000 }',
      '',
    ].join('\n'),
  );
  github.policy = STAND_IN_POLICY;
  const env = readEnv({
    LEDGER_PATH: join(dir, 'ledger.db'),
    REDIS_URL: redis.url,
    GOVERNANCE_CONFIG: config,
    PORT: String(await freePort()),
    ...standInEnv(github, slack, { webhook: WEBHOOK_SECRET, slack: SLACK_SECRET }),
    HEALTH_PROBE_INTERVAL_MS: '250',
  });
  const start = () =>
    startService(env, createLogger('silent'), {
      github: {
        reconcileIntervalMs: 3_600_000,
        retry: { initialMs: 50, maxMs: 400 },
        breaker: { halfOpenAfterMs: 300, consecutiveFailures: 5 },
      },
      slackRetry: { initialMs: 50, maxMs: 400 },
      slackBreaker: createBreaker({ halfOpenAfterMs: 300, consecutiveFailures: 5 }),
    });
  let service: RunningService = await start();
  const breakFencing = (s: RunningService) => {
    if (options.defect !== 'no-fencing') return;
    const state = s.runtime.state;
    const release = state.releaseLock.bind(state);
    state.releaseLock = async (key: string) => {
      const current = await state.getLock(key);
      return current ? release(key, current.token) : false;
    };
  };
  breakFencing(service);
  const base = `http://127.0.0.1:${env.PORT}`;
  const tokens = new Map<string, string>();
  for (const id of ids) tokens.set(id, await service.runtime.governance.rotateToken(id, 'chaos'));

  const accepted = new Set<string>();
  const intervals: LockInterval[] = [];
  const stats: Record<string, number> = {
    preflights: 0,
    locks: 0,
    pullRequests: 0,
    clicks: 0,
    requestErrors: 0,
    faults: 0,
  };
  const deadline = Date.now() + options.durationMs;
  let prNumber = 0;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  const agentLoop = async (id: string, index: number) => {
    const random = randomFor(id);
    const client = new AgentClient({ baseUrl: base, token: tokens.get(id)! });
    const misbehaves = index % 4 === 3;
    while (Date.now() < deadline) {
      const roll = random();
      try {
        if (roll < 0.35) {
          stats.preflights!++;
          await client.preflight({ action: 'push', repository: 'acme/web', paths: ['src/app.ts'] });
        } else if (roll < 0.7) {
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
            intervals.push({
              key: lock.lockKey,
              agentId: id,
              start,
              end: Math.min(Date.now(), requestedAt + ttl * 1000),
            });
            await client.releaseLock(lock).catch(() => undefined);
          }
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
          for (let attempt = 0; attempt < 50; attempt++) {
            const res = await deliverPullRequest(
              base,
              WEBHOOK_SECRET,
              github.pullRequestPayload(number),
              deliveryId,
            ).catch(() => null);
            // GitHub redelivers with the same id until a 2xx: a restarting service loses nothing.
            if (res && res.status < 300) {
              accepted.add(deliveryId);
              break;
            }
            await sleep(100);
          }
        }
      } catch {
        stats.requestErrors!++;
      }
      await sleep(10 + random() * 40);
    }
  };

  const approverLoop = async () => {
    while (Date.now() < deadline) {
      try {
        for (const pending of service.slack?.approvals.pending() ?? []) {
          stats.clicks!++;
          await clickApprove(base, SLACK_SECRET, 'UALICE', pending.approvalKey).catch(() => undefined);
        }
      } catch {
        stats.requestErrors!++;
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
      } else if (fault === 'service') {
        await service.stop().catch(() => undefined);
        await sleep(100 + random() * 300);
        service = await start();
        breakFencing(service);
      }
    }
  };

  try {
    print(
      `chaos: ${options.agents} agents, ${options.durationMs / 1000} s, seed ${options.seed}, faults ${options.faults.join(',') || 'none'}${options.defect ? `, defect ${options.defect}` : ''}`,
    );
    await Promise.all([...ids.map((id, i) => agentLoop(id, i)), approverLoop(), faultLoop()]);
    // Recovery: every fault cleared; the service drains what waited.
    github.failWith = null;
    slack.failWith = null;
    for (let i = 0; i < 3; i++) {
      await service.maintenance();
      await service.slack?.receiver.idle();
      await service.github?.drain(30_000).catch(() => undefined);
      await service.github?.reconcileNow();
      await service.github?.drain(30_000).catch(() => undefined);
      for (let j = 0; j < 150 && service.runtime.ledger.outbox.pendingCount() > 0; j++) {
        await service.slack?.pump.runNow();
        await service.github?.settle();
        await sleep(100);
      }
    }
    const invariants = checkInvariants(service.runtime.ledger.db, github, accepted, intervals);
    return { ok: invariants.every((i) => i.ok), invariants, stats };
  } finally {
    await service.stop().catch(() => undefined);
    github.stop();
    slack.stop();
    await redis.stop();
  }
}
