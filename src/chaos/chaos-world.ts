import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openRuntime } from '../app/open-runtime.js';
import { readEnv } from '../config/read-env.js';
import { GithubStandIn } from '../demo/github-stand-in.js';
import { SlackStandIn } from '../demo/slack-stand-in.js';
import { STAND_IN_POLICY, standInEnv } from '../demo/stand-in-env.js';
import { VaultStandIn } from '../demo/vault-stand-in.js';
import type { ChaosLedger } from './chaos-ledger.js';
import type { ChaosOptions } from './chaos-options.js';
import type { Observed } from './invariants/invariant.js';
import { PrivatePostgres } from './private-postgres.js';
import { freePort, PrivateRedis } from './private-redis.js';
import { seededRandom } from './seeded-random.js';
import { SpawnedService } from './spawned-service.js';

export const CHAOS_WEBHOOK_SECRET = 'chaos-webhook-secret';
export const CHAOS_SLACK_SECRET = 'chaos-slack-secret';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Everything a chaos run acts on and what it has seen so far, shared by its loops. */
export interface ChaosWorld {
  options: ChaosOptions;
  print: (line: string) => void;
  /** Each loop draws from its own generator, so its choices do not depend on how the loops interleave. */
  randomFor: (name: string) => () => number;
  redis: PrivateRedis;
  /** The private PostgreSQL server, when the ledger is on PostgreSQL. */
  postgres: PrivatePostgres | null;
  github: GithubStandIn;
  slack: SlackStandIn;
  vault: VaultStandIn;
  /** The replicas (one unless the run asked for more), each its own process on its own port. */
  services: SpawnedService[];
  bases: string[];
  /** The ledger the replicas share, as the run reads it afterwards. */
  ledger: ChaosLedger;
  /** The run's own directory (the ledger file, the config, each replica's journal), removed at the end. */
  dir: string;
  ids: string[];
  tokens: Map<string, string>;
  observed: Observed;
  stats: Record<string, number>;
  /**
   * When the agents stop, in wall-clock milliseconds: the run measures real elapsed time (the
   * service, Redis's TTLs and the stand-ins all run on it), so the chaos loops read `Date.now()`.
   */
  deadline: number;
  prNumber: number;
  eventNumber: number;
}

function randomStreams(seed: number): (name: string) => () => number {
  const streams = new Map<string, () => number>();
  return (name) => {
    if (!streams.has(name))
      streams.set(name, seededRandom(seed * 7919 + [...name].reduce((h, c) => h * 31 + c.charCodeAt(0), 0)));
    return streams.get(name)!;
  };
}

function writeOrgConfig(dir: string, ids: string[]): string {
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
  return config;
}

/** The agents and their tokens, as an admin would set them up with `agov agents add` before. */
async function registerAgents(env: Record<string, string>, ids: string[]): Promise<Map<string, string>> {
  const tokens = new Map<string, string>();
  const setup = await openRuntime(readEnv(env), { stateStore: 'memory' });
  try {
    await setup.governance.registerConfiguredAgents();
    for (const id of ids) tokens.set(id, await setup.governance.rotateToken(id, 'chaos'));
  } finally {
    await setup.close();
  }
  return tokens;
}

/** A private Redis (and PostgreSQL), the stand-ins, a fresh ledger with the agents registered; no replica started yet. */
export async function prepareChaosWorld(options: ChaosOptions): Promise<ChaosWorld> {
  const redis = await PrivateRedis.start();
  const postgres = options.database === 'postgres' ? await PrivatePostgres.start() : null;
  const github = await new GithubStandIn().start();
  const slack = await new SlackStandIn().start();
  const vault = await new VaultStandIn().start();
  const dir = mkdtempSync(join(tmpdir(), 'agov-chaos-'));
  const ids = Array.from({ length: options.agents }, (_, i) => `chaos-${i}`);
  const config = writeOrgConfig(dir, ids);
  github.policy = STAND_IN_POLICY;
  const ledgerPath = join(dir, 'ledger.db');
  const databaseUrl = postgres ? await postgres.createDatabase() : null;
  const shared: Record<string, string> = {
    REDIS_URL: redis.url,
    GOVERNANCE_CONFIG: config,
    ...standInEnv(github, slack, { webhook: CHAOS_WEBHOOK_SECRET, slack: CHAOS_SLACK_SECRET }),
    VAULT_ADDR: vault.addr,
    VAULT_TOKEN: 'hvs.chaos-root',
    HEALTH_PROBE_INTERVAL_MS: '250',
    // Short, so that the periodic work moves within the run when its replica is killed.
    PERIODIC_LEASE_MS: '2000',
    ...(databaseUrl ? { DATABASE_URL: databaseUrl, LEDGER_SIGNING_KEY: signingKeyPem() } : {}),
    ...(options.defect ? { AGOV_CHAOS_DEFECT: options.defect } : {}),
  };
  const replicas = options.replicas ?? 1;
  const envs: Record<string, string>[] = [];
  for (let i = 0; i < replicas; i++) {
    // Each replica on PostgreSQL keeps its own safety journal, as on its own host.
    const own = databaseUrl ? join(dir, `replica-${i}`, 'ledger.db') : ledgerPath;
    envs.push({ ...shared, LEDGER_PATH: own, PORT: String(await freePort()) });
  }
  return {
    options,
    print: options.print ?? (() => {}),
    randomFor: randomStreams(options.seed),
    redis,
    postgres,
    github,
    slack,
    vault,
    services: envs.map((env, i) => new SpawnedService(env, i)),
    bases: envs.map((env) => `http://127.0.0.1:${env.PORT}`),
    ledger: databaseUrl ? { postgres: databaseUrl } : { sqlite: ledgerPath },
    dir,
    ids,
    tokens: await registerAgents(envs[0]!, ids),
    ...nothingObservedYet(),
  };
}

/** Where a request goes, as a load balancer in front of the replicas would send it: any of them. */
export function baseFor(world: ChaosWorld, random: () => number): string {
  const { bases } = world;
  // One replica draws nothing: a run's schedule does not depend on how requests are routed.
  return bases.length === 1 ? bases[0]! : bases[Math.floor(random() * bases.length)]!;
}

/** The key every replica signs with: replicas on one PostgreSQL ledger share LEDGER_SIGNING_KEY. */
function signingKeyPem(): string {
  return generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** A run's record and counters before its first request. */
function nothingObservedYet(): Pick<
  ChaosWorld,
  'observed' | 'stats' | 'deadline' | 'prNumber' | 'eventNumber'
> {
  return {
    observed: {
      accepted: new Set<string>(),
      intervals: [],
      events: [],
      preflights: [],
      vaultTokens: new Map(),
    },
    stats: {
      preflights: 0,
      locks: 0,
      events: 0,
      vaultTokens: 0,
      pullRequests: 0,
      clicks: 0,
      requestErrors: 0,
      faults: 0,
    },
    deadline: 0,
    prNumber: 0,
    eventNumber: 0,
  };
}
