import type { InvariantInput, InvariantResult, LockInterval, PeriodicSpan } from './invariant.js';

/**
 * Two holders at once, from the agents' own view: each grant counts from its reply until the
 * agent asked to release it, or until the lock's TTL counted from the request (the earliest the
 * store could have let it go). These intervals lie inside the real ones, so an overlap is real.
 */
export function oneHolderAtATime({ observed }: InvariantInput): InvariantResult {
  const { intervals } = observed;
  const byKey = new Map<string, LockInterval[]>();
  for (const i of intervals) byKey.set(i.key, [...(byKey.get(i.key) ?? []), i]);
  let overlaps = 0;
  for (const list of byKey.values()) {
    const sorted = [...list].sort((a, b) => a.start - b.start);
    let latestEnd = Number.NEGATIVE_INFINITY;
    for (const i of sorted) {
      if (i.start < latestEnd) overlaps++;
      latestEnd = Math.max(latestEnd, i.end);
    }
  }
  return {
    name: 'no two holders of one lock at once',
    ok: overlaps === 0,
    count: intervals.length,
    detail: overlaps ? `${overlaps} overlapping grant(s)` : 'one holder at a time',
  };
}

/**
 * Fencing tokens only grow, even across a Redis restart that lost the counter. A grant recorded
 * `lost` (the store restarted while it was being recorded; the agent was told it was not granted)
 * was never held, and does not count.
 */
export function fencingTokensGrow({ rows }: InvariantInput): InvariantResult {
  const lastToken = new Map<string, number>();
  const locks = rows.filter((x) => x.type === 'execution.lock');
  const lost = new Set(
    locks.filter((r) => r.payload.op === 'lost').map((r) => `${r.payload.lockKey}#${r.payload.token}`),
  );
  let regressions = 0;
  for (const r of locks) {
    const p = r.payload;
    if (p.op !== 'acquired' || p.token === null || lost.has(`${p.lockKey}#${p.token}`)) continue;
    if (p.token <= (lastToken.get(p.lockKey) ?? 0)) regressions++;
    lastToken.set(p.lockKey, Math.max(p.token, lastToken.get(p.lockKey) ?? 0));
  }
  return {
    name: 'fencing tokens only grow',
    ok: regressions === 0,
    count: lastToken.size,
    detail: regressions ? `${regressions} token(s) reused or lower` : 'strictly increasing',
  };
}

/**
 * The shared periodic work (sweeps, expiry, watchers, checkpoints) on one replica at a time: no
 * piece of it on one replica overlaps a piece on another, each as long as its process said (or
 * until it was killed). Left out when the run had one replica.
 */
export function periodicWorkAlone({ periodic }: InvariantInput): InvariantResult | null {
  if (!periodic) return null;
  const sorted = [...periodic].sort((a, b) => a.start - b.start);
  const overlaps: string[] = [];
  // The latest-ending span of each replica so far: a span overlaps another replica's if it starts before that one ends.
  const latest = new Map<number, PeriodicSpan>();
  for (const span of sorted) {
    for (const [replica, other] of latest)
      if (replica !== span.replica && span.start < other.end)
        overlaps.push(`${other.what} (replica ${other.replica}) with ${span.what} (replica ${span.replica})`);
    const mine = latest.get(span.replica);
    if (!mine || span.end > mine.end) latest.set(span.replica, span);
  }
  const replicas = new Set(periodic.map((s) => s.replica)).size;
  return {
    name: 'periodic work never ran on two replicas at once',
    ok: overlaps.length === 0,
    count: periodic.length,
    detail: overlaps.length
      ? `${overlaps.length} overlap(s), first ${overlaps[0]}`
      : `one replica at a time (ran on ${replicas})`,
  };
}

/**
 * The periodic-work lease is fenced: each time it is taken its fence grows, and a fence is one
 * replica's. So the pieces of periodic work, in the order they started, never go back to a lower
 * fence, and no two replicas ran under one fence. A lease that a restart forgets hands out its
 * fences again: a holder that lost it can no longer be told apart from the one that has it. Left
 * out when the run had one replica.
 */
export function leaseFenceGrows({ periodic }: InvariantInput): InvariantResult | null {
  if (!periodic) return null;
  const sorted = periodic.filter((s) => s.fence !== null).sort((a, b) => a.start - b.start);
  const holders = new Map<number, number>();
  const problems: string[] = [];
  let highest = Number.NEGATIVE_INFINITY;
  for (const span of sorted) {
    const fence = span.fence!;
    if (fence < highest)
      problems.push(`${span.what} (replica ${span.replica}) ran under fence ${fence} after ${highest}`);
    const holder = holders.get(fence);
    if (holder !== undefined && holder !== span.replica)
      problems.push(`fence ${fence} held by replica ${holder} and replica ${span.replica}`);
    holders.set(fence, span.replica);
    highest = Math.max(highest, fence);
  }
  return {
    name: 'the periodic-work lease fence only grows, one replica each',
    ok: problems.length === 0,
    count: holders.size,
    detail: problems.length ? `${problems.length} problem(s), first ${problems[0]}` : 'strictly increasing',
  };
}
