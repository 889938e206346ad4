import { AgentClient } from '../client/index.js';
import { deliverPullRequest } from '../demo/stand-in-requests.js';
import { baseFor, CHAOS_WEBHOOK_SECRET, type ChaosWorld, sleep } from './chaos-world.js';

/**
 * One simulated agent until the deadline: a mix of preflights, locks, lifecycle events, Vault
 * tokens and pull requests drawn from its own seeded stream. Every fourth agent misbehaves (leaks
 * a secret now and then). What the service answered goes into `world.observed`.
 */
export async function agentLoop(world: ChaosWorld, id: string, index: number): Promise<void> {
  const random = world.randomFor(id);
  // Each request through any replica, as behind a load balancer (routed from a stream of its own).
  const route = world.randomFor(`${id}:route`);
  const clients = new Map(
    world.bases.map((base) => [base, new AgentClient({ baseUrl: base, token: world.tokens.get(id)! })]),
  );
  const client = () => clients.get(baseFor(world, route))!;
  const misbehaves = index % 4 === 3;
  // Wall-clock time: the run lasts a real duration (see ChaosWorld.deadline).
  while (Date.now() < world.deadline) {
    const roll = random();
    try {
      if (roll < 0.3) await preflight(world, client, id);
      else if (roll < 0.6) await holdLock(world, client, id, random);
      else if (roll < 0.7) await reportEvent(world, client, id);
      else if (roll < 0.8) await takeVaultToken(world, client, id);
      else await openPullRequest(world, id, misbehaves, random);
    } catch {
      world.stats.requestErrors!++;
    }
    await sleep(30 + random() * 100);
  }
}

async function preflight(world: ChaosWorld, client: () => AgentClient, id: string): Promise<void> {
  world.stats.preflights!++;
  const answer = await client().preflight({
    action: 'push',
    repository: 'acme/web',
    paths: ['src/app.ts'],
  });
  world.observed.preflights.push({ agentId: id, seq: answer.seq, decision: answer.decision });
}

/**
 * Now and then an agent is slow: it lets its short lock lapse and releases it late, when another
 * may hold it. Fencing must refuse that release. The interval recorded is the grant as the agent
 * saw it, in wall-clock time, as Redis counts the lock's TTL.
 */
async function holdLock(world: ChaosWorld, client: () => AgentClient, id: string, random: () => number) {
  world.stats.locks!++;
  const slow = random() < 0.25;
  const ttl = slow ? 1 : 30;
  const requestedAt = Date.now();
  const lock = await client()
    .acquireLock(ttl, 'acme/web')
    .catch(() => null);
  if (!lock) return;
  const start = Date.now();
  await sleep(slow ? 1300 : 20 + random() * 60);
  await client()
    .heartbeat()
    .catch(() => undefined);
  world.observed.intervals.push({
    key: lock.lockKey,
    agentId: id,
    start,
    end: Math.min(Date.now(), requestedAt + ttl * 1000),
  });
  await client()
    .releaseLock(lock)
    .catch(() => undefined);
}

async function reportEvent(world: ChaosWorld, client: () => AgentClient, id: string): Promise<void> {
  world.stats.events!++;
  const eventId = `${id}-${++world.eventNumber}`;
  const answer = await client().event('execution_started', { chaosEventId: eventId });
  world.observed.events.push({ eventId, agentId: id, seq: answer.seq });
}

async function takeVaultToken(world: ChaosWorld, client: () => AgentClient, id: string): Promise<void> {
  world.stats.vaultTokens!++;
  const issued = await client().vaultToken();
  const { vaultTokens } = world.observed;
  vaultTokens.set(id, [...(vaultTokens.get(id) ?? []), issued.accessor]);
}

async function openPullRequest(world: ChaosWorld, id: string, misbehaves: boolean, random: () => number) {
  world.stats.pullRequests!++;
  const number = ++world.prNumber;
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
  world.github.pulls.set(number, {
    number,
    title: `Change ${number}`,
    author: `${id}[bot]`,
    // Unique per PR: padded with 'c', PR 12 (0xc) and PR 204 (0xcc) had the same head commit.
    headSha: number.toString(16).padStart(40, '0'),
    files: [file],
  });
  await deliverUntilAccepted(world, number);
}

/** GitHub redelivers with the same id until a 2xx: a restarting service loses nothing. */
async function deliverUntilAccepted(world: ChaosWorld, number: number): Promise<void> {
  const deliveryId = `chaos-${world.options.seed}-${number}`;
  for (let attempt = 0; attempt < 100; attempt++) {
    const res = await deliverPullRequest(
      baseFor(world, world.randomFor('deliveries')),
      CHAOS_WEBHOOK_SECRET,
      world.github.pullRequestPayload(number),
      deliveryId,
    ).catch(() => null);
    if (res && res.status < 300) {
      world.observed.accepted.add(deliveryId);
      break;
    }
    await sleep(100);
  }
}
