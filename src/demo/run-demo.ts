import {
  approveInSlack,
  leakAKey,
  openDocsChange,
  openProtectedChange,
  registerAgent,
  verifyTheLedger,
} from './demo-steps.js';
import { startDemoWorld } from './demo-world.js';

/**
 * A newcomer's first five minutes: the real service on embedded defaults, GitHub and Slack played
 * by loopback stand-ins, and a story told as people would see it. Returns true when the ledger
 * verifies at the end.
 */
export async function runDemo(print: (line: string) => void = console.log): Promise<boolean> {
  const world = await startDemoWorld(print);
  try {
    print(
      `Agent Governance demo: the service on embedded defaults (ledger ${world.ledgerPath}), GitHub and Slack played on loopback.\n`,
    );
    const agent = await registerAgent(world);
    await openDocsChange(world);
    await openProtectedChange(world);
    await approveInSlack(world);
    await leakAKey(world, agent);
    return verifyTheLedger(world);
  } finally {
    await world.stop();
  }
}
