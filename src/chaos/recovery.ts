import { backlogOf, openChaosLedger } from './chaos-ledger.js';
import { type ChaosWorld, sleep } from './chaos-world.js';

/**
 * Recovery: every fault cleared, the service drains what waited, on its own. Waits until nothing is
 * left in the inbox or outbox and every PR's check is final, and stays so for 3 s: longer than a
 * heartbeat's TTL, so a lapse found by upkeep after the agents stopped is drained too. The time it
 * took is wall-clock time, as the run measures it.
 */
export async function recover(world: ChaosWorld): Promise<void> {
  const { github, slack, vault, print } = world;
  github.failWith = null;
  slack.failWith = null;
  vault.sealed = false;
  const recoveryStart = Date.now();
  const store = await openChaosLedger(world.ledger);
  try {
    const quiet = async () => {
      const { outbox, inbox } = await backlogOf(store);
      const open = [...github.pulls.values()].some(
        (pr) => github.checkOn(pr.headSha)?.status !== 'completed',
      );
      return outbox + inbox === 0 && !open;
    };
    const waiting = await backlogOf(store);
    print(`  recovery: ${waiting.inbox} deliveries and ${waiting.outbox} calls waiting`);
    let calm = 0;
    for (let i = 0; i < 600 && calm < 15; i++) {
      calm = (await quiet()) ? calm + 1 : 0;
      await sleep(200);
    }
  } finally {
    await store.close();
  }
  print(`  recovery: drained in ${((Date.now() - recoveryStart) / 1000).toFixed(1)} s`);
}
