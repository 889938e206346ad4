/**
 * Why a replica on a PostgreSQL ledger must not serve beside the others, and which of two stops.
 */
import type { AnnouncedReplica } from '../ledger/postgres/pg-replicas.js';
import type { ReplicaInfo, StateStore } from '../state/state-store.js';
import type { LedgerReplicas } from './replicas.js';

/** Why this replica must stop serving beside the others, and whether it is this one that stops. */
export interface Unsafe {
  /**
   * `unshared`: a replica without REDIS_URL. `missing`: a replica one side lists and the other does
   * not (another Redis, a copy of the database); a Redis that has just restarted lists nobody for
   * a moment, so this one is asked again before it counts.
   */
  kind: 'unshared' | 'missing';
  reason: string;
  mine: boolean;
}

/** Which of two replicas started later (the one to stop when they must not serve side by side). */
export function later(a: { startedAt: string; id: string }, b: { startedAt: string; id: string }): boolean {
  return a.startedAt > b.startedAt || (a.startedAt === b.startedAt && a.id > b.id);
}

export function twinReason(twin: Pick<AnnouncedReplica, 'host' | 'pid' | 'startedAt'>): string {
  return (
    `another replica under this one's name (host ${twin.host}, pid ${twin.pid}, started ${twin.startedAt}) serves this ledger: ` +
    'the same host name and PORT; give each replica its own host name or PORT, or their claims would be taken for each other'
  );
}

/**
 * Why this replica must not serve beside the others announced in the ledger database, or null,
 * and whether it is this one that must stop. A replica whose locks, rate limits and revocation
 * signals live in its own process (no REDIS_URL) cannot share the work with another, whichever
 * of the two it is (it stops); nor can a replica on another Redis than the others (one that
 * other replicas announced in the ledger do not appear in: the one started later stops).
 */
export async function unsafeBeside(
  me: ReplicaInfo,
  { registry, sharedState }: LedgerReplicas,
  store: Pick<StateStore, 'listReplicas'>,
  /** Whether this replica has announced itself in the store (it is serving), or is about to join. */
  announced: boolean,
): Promise<Unsafe | null> {
  const others = await registry.others(me.id);
  const unshared = others.find((o) => !o.sharedState) ?? (sharedState ? undefined : others[0]);
  if (unshared)
    return {
      kind: 'unshared',
      reason:
        `another replica (${unshared.host}, pid ${unshared.pid}, started ${unshared.startedAt}) serves this PostgreSQL ledger; ` +
        'several replicas need the same REDIS_URL on every one (locks, rate limits and revocation signals must be shared)',
      mine: !sharedState,
    };
  const listed = await store.listReplicas();
  const inThisStore = new Set(listed.map((r) => r.id));
  // A store that no longer lists this replica itself was emptied since it last announced (a Redis
  // restart): it cannot tell who is missing until every replica has announced again.
  if (announced && !inThisStore.has(me.id)) return null;
  // The same ledger identity in the state store, not in this database: a copy of the database
  // (a clone, a restored backup) served beside this one, each keeping its own record from here.
  const inThisLedger = new Set(others.map((o) => o.id));
  const copy = listed.find((r) => r.id !== me.id && r.ledger === me.ledger && !inThisLedger.has(r.id));
  if (copy)
    return {
      kind: 'missing',
      reason:
        `another replica (${copy.host}, pid ${copy.pid}, started ${copy.startedAt}) serves a copy of this PostgreSQL ledger ` +
        '(a cloned database or a restored backup: same identity, another database) on the same state store; the two would each keep a different record',
      mine: later(me, copy),
    };
  const stranger = others.find((o) => !inThisStore.has(o.id));
  if (!stranger) return null;
  return {
    kind: 'missing',
    reason:
      `another replica (${stranger.host}, pid ${stranger.pid}, started ${stranger.startedAt}) serves this PostgreSQL ledger ` +
      'with another state store; every replica needs the same REDIS_URL (locks, rate limits and revocation signals must be shared)',
    mine: later(me, stranger),
  };
}
