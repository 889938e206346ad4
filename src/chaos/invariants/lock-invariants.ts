import type { InvariantInput, InvariantResult, LockInterval } from './invariant.js';

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

/** Fencing tokens only grow, even across a Redis restart that lost the counter. */
export function fencingTokensGrow({ rows }: InvariantInput): InvariantResult {
  const lastToken = new Map<string, number>();
  let regressions = 0;
  for (const r of rows.filter((x) => x.type === 'execution.lock')) {
    const p = r.payload;
    if (p.op !== 'acquired' || p.token === null) continue;
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
