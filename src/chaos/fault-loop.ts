import type { ChaosFault } from './chaos-options.js';
import { type ChaosWorld, sleep } from './chaos-world.js';

/**
 * Injects faults on a schedule drawn from the seed until shortly before the deadline (wall-clock
 * time, see ChaosWorld.deadline): each one breaks a part for a while and mends it.
 */
export async function faultLoop(world: ChaosWorld): Promise<void> {
  const random = world.randomFor('faults');
  const { faults } = world.options;
  if (faults.length === 0) return;
  while (Date.now() < world.deadline - 500) {
    await sleep(400 + random() * 1200);
    if (Date.now() >= world.deadline - 500) break;
    const fault = faults[Math.floor(random() * faults.length)]!;
    world.stats.faults!++;
    world.stats[`fault.${fault}`] = (world.stats[`fault.${fault}`] ?? 0) + 1;
    world.print(`  fault: ${fault}`);
    await inject(world, fault, random);
  }
}

async function inject(world: ChaosWorld, fault: ChaosFault, random: () => number): Promise<void> {
  const { github, slack, vault } = world;
  if (fault === 'redis') {
    await world.redis.kill();
    await sleep(300 + random() * 500);
    await world.redis.restart();
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
    // The whole service: every replica at once.
    await Promise.all(world.services.map((s) => s.kill()));
    await sleep(100 + random() * 300);
    await Promise.all(world.services.map((s) => s.start()));
  } else if (fault === 'replica') {
    // The replica running the periodic work dies: the others carry its traffic and take over its
    // claims, and the periodic work has to move.
    const replica = [...world.services].sort((a, b) => b.lastPeriodicAt() - a.lastPeriodicAt())[0]!;
    await replica.kill();
    await sleep(300 + random() * 1200);
    await replica.start();
  } else if (fault === 'postgres') {
    // The database server stops hard (as a crash) and comes back with what it had committed.
    await world.postgres!.crash();
    await sleep(300 + random() * 700);
    await world.postgres!.restart();
  }
}
