import type { SlackStandIn } from '../demo/slack-stand-in.js';
import { approveButtonValue, clickApprove } from '../demo/stand-in-requests.js';
import { baseFor, CHAOS_SLACK_SECRET, type ChaosWorld, sleep } from './chaos-world.js';

/** Approval requests whose latest message in Slack still shows the buttons, as an approver sees them. */
export function openApprovals(slack: SlackStandIn): string[] {
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
 * An approver in Slack: clicks Approve on every request still showing its buttons. A click that
 * was lost is clicked again after 1.5 s of wall-clock time (the service's real time).
 */
export async function approverLoop(world: ChaosWorld, until: () => boolean): Promise<void> {
  const clickedAt = new Map<string, number>();
  const route = world.randomFor('approver:route');
  while (!until()) {
    for (const key of openApprovals(world.slack)) {
      if (Date.now() - (clickedAt.get(key) ?? 0) < 1500) continue;
      clickedAt.set(key, Date.now());
      world.stats.clicks!++;
      await clickApprove(baseFor(world, route), CHAOS_SLACK_SECRET, 'UALICE', key).catch(() => undefined);
    }
    await sleep(200);
  }
}
