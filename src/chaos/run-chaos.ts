import { rmSync } from 'node:fs';
import { agentLoop } from './agent-loop.js';
import { approverLoop } from './approver-loop.js';
import { ledgerFacts, openChaosLedger } from './chaos-ledger.js';
import { type ChaosOptions, type ChaosReport, chaosSetUpProblem } from './chaos-options.js';
import { type ChaosWorld, prepareChaosWorld } from './chaos-world.js';
import { faultLoop } from './fault-loop.js';
import { checkInvariants } from './invariants.js';
import { recover } from './recovery.js';

/**
 * Many simulated agents and an approver against the real service, run as its own process (or as
 * several replicas sharing a PostgreSQL ledger), with a private redis-server, and GitHub, Slack and
 * Vault played on loopback, while faults are injected on a schedule drawn from the seed: Redis
 * killed, GitHub 502 and rate limits, Slack 429 and 5xx, Vault sealed, the service or one replica
 * killed with SIGKILL, the PostgreSQL server stopped hard. At the end, with every fault cleared and
 * the work drained, the invariants are checked on the ledger and the stand-ins.
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const problem = chaosSetUpProblem(options);
  if (problem) throw new Error(problem);
  const world = await prepareChaosWorld(options);
  const { print, services } = world;
  try {
    print(
      `chaos: ${options.agents} agents, ${options.durationMs / 1000} s, seed ${options.seed}, faults ${options.faults.join(',') || 'none'}${setUp(options)}${options.defect ? `, defect ${options.defect}` : ''}`,
    );
    await Promise.all(services.map((s) => s.start()));
    await work(world);
    await recover(world);
    await Promise.all(services.map((s) => s.stop()));
    return await report(world);
  } finally {
    await Promise.all(services.map((s) => s.stop().catch(() => undefined)));
    world.github.stop();
    world.slack.stop();
    world.vault.stop();
    await world.redis.stop();
    await world.postgres?.stop();
    rmSync(world.dir, { recursive: true, force: true });
  }
}

function setUp({ replicas = 1, database = 'sqlite' }: ChaosOptions): string {
  return replicas > 1 || database !== 'sqlite' ? `, ${replicas} replica(s) on ${database}` : '';
}

/** The agents and the faults until the deadline (wall-clock time), with the approver clicking meanwhile. */
async function work(world: ChaosWorld): Promise<void> {
  world.deadline = Date.now() + world.options.durationMs;
  let stopClicking = false;
  const approver = approverLoop(world, () => stopClicking);
  await Promise.all([...world.ids.map((id, i) => agentLoop(world, id, i)), faultLoop(world)]);
  // The approver stops too: a click during the drain would queue new calls behind its end.
  stopClicking = true;
  await approver;
}

async function report(world: ChaosWorld): Promise<ChaosReport> {
  const { github, slack, vault, services } = world;
  const store = await openChaosLedger(world.ledger);
  try {
    const facts = await ledgerFacts(store);
    const periodic = services.length > 1 ? services.flatMap((s) => s.spans) : null;
    const invariants = checkInvariants(facts, periodic, { github, slack, vault }, world.observed);
    return { ok: invariants.every((i) => i.ok), invariants, stats: world.stats };
  } finally {
    await store.close();
  }
}
