import { openLedger } from '../ledger/ledger.js';
import { agentLoop } from './agent-loop.js';
import { approverLoop } from './approver-loop.js';
import type { ChaosOptions, ChaosReport } from './chaos-options.js';
import { type ChaosWorld, prepareChaosWorld } from './chaos-world.js';
import { faultLoop } from './fault-loop.js';
import { checkInvariants } from './invariants.js';
import { recover } from './recovery.js';

/**
 * Many simulated agents and an approver against the real service, run as its own process (real
 * ledger, a private redis-server), with GitHub, Slack and Vault played on loopback, while faults are
 * injected on a schedule drawn from the seed: Redis killed, GitHub 502 and rate limits, Slack 429 and
 * 5xx, Vault sealed, the service killed with SIGKILL. At the end, with every fault cleared and the
 * work drained, the invariants are checked on the ledger and the stand-ins.
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const world = await prepareChaosWorld(options);
  const { print, service } = world;
  try {
    print(
      `chaos: ${options.agents} agents, ${options.durationMs / 1000} s, seed ${options.seed}, faults ${options.faults.join(',') || 'none'}${options.defect ? `, defect ${options.defect}` : ''}`,
    );
    await service.start();
    await work(world);
    await recover(world);
    await service.stop();
    return report(world);
  } finally {
    await service.stop().catch(() => undefined);
    world.github.stop();
    world.slack.stop();
    world.vault.stop();
    await world.redis.stop();
  }
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

function report(world: ChaosWorld): ChaosReport {
  const { github, slack, vault } = world;
  const ledger = openLedger(world.ledgerPath, { readonly: true, mustExist: true });
  try {
    const invariants = checkInvariants(ledger, { github, slack, vault }, world.observed);
    return { ok: invariants.every((i) => i.ok), invariants, stats: world.stats };
  } finally {
    ledger.close();
  }
}
