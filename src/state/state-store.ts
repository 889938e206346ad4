/**
 * The state store: derived state (agents, revocations, budgets, pending approvals) rebuilt from the
 * ledger, plus short-lived coordination (locks, heartbeats, rate windows, delivery de-duplication,
 * the alert queue). Two implementations honour this contract: Redis-protocol servers through
 * ioredis, and an in-process store for one node. The contract tests run against both.
 */
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import type { AgentRecord } from '../core/agent.js';
import type { DerivedState, PendingApproval, RevokeSignal, StateChange } from '../core/derived-state.js';

export type LockResult =
  | { acquired: true; token: number; expiresAt: number }
  | { acquired: false; holder: string; expiresAt: number };

/**
 * The store came back empty (a restarted Redis) and is not rebuilt from the ledger yet: nothing may
 * be decided from it. Its message is meant for callers: it says what is happening and what to do.
 */
export class StateNotRestoredError extends Error {
  constructor() {
    super('the state store came back empty and is being rebuilt from the ledger; try again');
    this.name = 'StateNotRestoredError';
  }
}

/** True when a lock's `holder` (`owner` or `owner:detail`) belongs to `owner`; null owns every lock. */
export function ownsLock(holder: string, owner: string | null): boolean {
  return owner === null || holder === owner || holder.startsWith(`${owner}:`);
}

export interface LockInfo {
  holder: string;
  token: number;
  expiresAt: number;
}

export interface BudgetChargeResult {
  /** Points used in the window after this charge. */
  used: number;
  /** True for exactly the one charge that took usage from below the limit to at or above it. */
  crossedLimit: boolean;
}

/** Where an agent's execution under a lock is kept: agent ids and lock keys hold no space. */
export function executionField(agentId: string, lockKey: string): string {
  return `${agentId} ${lockKey}`;
}

/** An agent's running execution: the lock it holds and since when. */
export interface Execution {
  agentId: string;
  lockKey: string;
  token: number;
  startedAt: number;
}

/** A lease on shared periodic work: held by one replica at a time, fenced by a growing number. */
export type LeaseResult =
  | { held: true; fence: number; expiresAt: number }
  | { held: false; holder: string; expiresAt: number };

/** A running `agov serve`, as it announces itself to the other replicas on the same store. */
export interface ReplicaInfo {
  /** Stable across restarts of the same installation on the same host (see app/replicas.ts). */
  id: string;
  host: string;
  pid: number;
  /** `sqlite:<path>` or `postgres`: a replica on its own SQLite file cannot share the work. */
  ledger: string;
  startedAt: string;
}

export interface Alert {
  kind: string;
  agentId: string | null;
  message: string;
  at: string;
}

export interface StateStore {
  readonly kind: 'redis' | 'memory';

  /** Applies the changes a ledger entry implies; every change is idempotent. */
  apply(changes: readonly StateChange[]): Promise<void>;
  getAgent(agentId: string): Promise<AgentRecord | null>;
  listAgents(): Promise<AgentRecord[]>;
  /** `agent:{id}:revoke_signal`, read on every gate and preflight. */
  getRevokeSignal(agentId: string): Promise<RevokeSignal | null>;
  /** `revocations:ledger`: every agent currently revoked. */
  listRevocations(): Promise<RevokeSignal[]>;
  listPendingApprovals(): Promise<PendingApproval[]>;
  /** Points charged to an agent's budget since `sinceMs`. */
  budgetUsed(agentId: string, sinceMs: number): Promise<number>;
  /**
   * Adds a charge and reports usage in the window (`sinceMs`..) atomically: when two processes charge
   * at once, exactly one of them sees `crossedLimit`.
   */
  chargeBudget(
    agentId: string,
    charge: { id: string; amount: number; at: number },
    limit: number,
    sinceMs: number,
  ): Promise<BudgetChargeResult>;

  /**
   * Takes the lock if it is free or expired. The token grows with every grant of this lock, so a
   * resource can refuse a stale holder's writes (fencing). `holder` is `owner` or `owner:detail`.
   * Any key is allowed: keys are namespaced, so no lock name reaches a key the store uses itself.
   */
  acquireLock(key: string, holder: string, ttlMs: number): Promise<LockResult>;
  /**
   * Extends only when `token` is the current grant and, unless `owner` is null (the service
   * itself), that grant's holder is `owner`: tokens are sequential, so a token alone proves nothing.
   */
  extendLock(key: string, token: number, ttlMs: number, owner: string | null): Promise<boolean>;
  /** Releases only when `token` is the current grant held by `owner` (null: the service itself). */
  releaseLock(key: string, token: number, owner: string | null): Promise<boolean>;
  getLock(key: string): Promise<LockInfo | null>;
  /**
   * Puts back a grant the ledger says is still live (after the store lost it: a restarted Redis),
   * and raises the lock's fencing counter to at least `token`, so no later grant reuses a token.
   */
  restoreLock(key: string, holder: string, token: number, ttlMs: number): Promise<void>;

  /**
   * Remembers the execution an agent started under a lock, for the heartbeat sweeper: one per
   * agent and lock (an agent may hold several repositories' locks at once).
   */
  setExecution(execution: Execution): Promise<void>;
  /** Forgets the agent's execution under `lockKey`, only when `token` is still its lock token. */
  clearExecution(agentId: string, lockKey: string, token: number): Promise<void>;
  listExecutions(): Promise<Execution[]>;

  /**
   * Takes the lease `name` when it is free or expired, or renews it when `owner` holds it. The
   * fence grows with every new grant and never with a renewal, so whoever took over can be told
   * from a holder whose lease ran out. Unlike locks, leases are handed out before the store is
   * restored: rebuilding it is periodic work too.
   */
  acquireLease(name: string, owner: string, ttlMs: number): Promise<LeaseResult>;
  /** Gives the lease up at once, only if `owner` holds it. */
  releaseLease(name: string, owner: string): Promise<void>;

  /** Says this replica is running, for `ttlMs`; announced again before it runs out. */
  announceReplica(replica: ReplicaInfo, ttlMs: number): Promise<void>;
  /** The replicas whose announcement has not run out, by id. */
  listReplicas(): Promise<ReplicaInfo[]>;
  withdrawReplica(id: string): Promise<void>;

  /** Records a heartbeat that counts as alive for `ttlMs`. */
  heartbeat(agentId: string, ttlMs: number): Promise<void>;
  /** Milliseconds since the epoch of the last heartbeat still alive, or null once it expired. */
  lastHeartbeat(agentId: string): Promise<number | null>;

  /** Counts one hit in a sliding window and refuses it past `limit`, atomically. */
  hitRateLimit(key: string, limit: number, windowMs: number): Promise<{ allowed: boolean; count: number }>;

  /**
   * A request-rate limiter (rate-limiter-flexible) whose counts live in this store, so every
   * replica on one Redis counts the same requests: `points` per `durationSeconds` per key, fixed
   * windows. Its keys are under `ratelimit:{name}:`. A Redis that cannot answer is replaced by an
   * in-process count of the same size until it can (limits then hold per replica).
   */
  rateLimiter(name: string, points: number, durationSeconds: number): RateLimiterAbstract;

  /** True the first time a delivery id is seen within `ttlMs`; false for a replay. */
  markDeliverySeen(deliveryId: string, ttlMs: number): Promise<boolean>;

  /** `alerts:queue`, first in first out. */
  pushAlert(alert: Alert): Promise<void>;
  takeAlerts(max: number): Promise<Alert[]>;
  alertQueueLength(): Promise<number>;

  /** The derived part of the store, for checkpoints and comparisons. */
  snapshot(): Promise<DerivedState>;
  /** Replaces the derived part of the store with `state` (restore). Coordination keys are kept. */
  replaceDerived(state: DerivedState): Promise<void>;
  /**
   * Says the store now holds what the ledger says, locks and fencing counters included. A store that
   * may come back empty (a restarted Redis) hands out no lock until then: a fresh counter would hand
   * out fencing tokens already used.
   */
  markRestored(): Promise<void>;
  /** False while a store that came back empty waits to be rebuilt: decisions must not read it. */
  isRestored(): Promise<boolean>;

  ping(): Promise<void>;
  close(): Promise<void>;
}
