import { Redis } from 'ioredis';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import type { AgentRecord } from '../core/agent.js';
import type { DerivedState, PendingApproval, RevokeSignal, StateChange } from '../core/derived-state.js';
import { UserError } from '../platform/errors.js';
import { RedisAlerts } from './redis-alerts.js';
import { RedisDerivedState } from './redis-derived-state.js';
import { withScripts } from './redis-keys.js';
import { RedisLeases } from './redis-leases.js';
import { RedisLocks } from './redis-locks.js';
import { RedisRateLimits } from './redis-rate-limits.js';
import type {
  Alert,
  BudgetChargeResult,
  Execution,
  LeaseResult,
  LockInfo,
  LockResult,
  ReplicaInfo,
  StateStore,
} from './state-store.js';

/**
 * The state store on a Redis-protocol server (Redis, Valkey, DragonflyDB). Every change that
 * touches more than one key runs in a Lua script or a MULTI, so racing processes never both win.
 * Each area is its own class over one client: the derived state, locks and heartbeats, rate
 * limits, alerts.
 */
export class RedisStateStore implements StateStore {
  readonly kind = 'redis' as const;
  private readonly redis: Redis;
  private readonly derived: RedisDerivedState;
  private readonly locks: RedisLocks;
  private readonly limits: RedisRateLimits;
  private readonly alerts: RedisAlerts;
  private readonly leases: RedisLeases;

  constructor(redis: Redis) {
    const scripted = withScripts(redis);
    this.redis = scripted;
    this.derived = new RedisDerivedState(scripted);
    this.locks = new RedisLocks(scripted);
    this.limits = new RedisRateLimits(scripted);
    this.alerts = new RedisAlerts(scripted);
    this.leases = new RedisLeases(scripted);
  }

  /** Connects and pings; an unreachable server is a user-facing error naming the URL. */
  static async connect(url: string, options: { connectTimeoutMs?: number } = {}): Promise<RedisStateStore> {
    let connectedOnce = false;
    const redis = new Redis(url, {
      lazyConnect: true,
      connectTimeout: options.connectTimeoutMs ?? 3000,
      maxRetriesPerRequest: 2,
      // Fail fast when the first connection is refused; once up, reconnect for ever with backoff.
      retryStrategy: (times) => (connectedOnce ? Math.min(times * 200, 2000) : null),
    });
    let lastError: Error | null = null;
    redis.on('error', (error: Error) => {
      // Connection errors surface through the commands that fail; ioredis reconnects by itself.
      lastError = error;
    });
    try {
      await redis.connect();
      await redis.ping();
      connectedOnce = true;
    } catch (error) {
      // After a refused first connection ioredis has already ended; disconnecting again arms a timer.
      if (redis.status !== 'end') redis.disconnect();
      const reason = (lastError as Error | null)?.message ?? (error as Error).message;
      throw new UserError(
        'redis_unreachable',
        `cannot reach the state store at ${redactUrl(url)}: ${reason}; check REDIS_URL or unset it to use the in-process store`,
        { cause: error },
      );
    }
    return new RedisStateStore(redis);
  }

  apply(changes: readonly StateChange[]): Promise<void> {
    return this.derived.apply(changes);
  }

  getAgent(agentId: string): Promise<AgentRecord | null> {
    return this.derived.getAgent(agentId);
  }

  listAgents(): Promise<AgentRecord[]> {
    return this.derived.listAgents();
  }

  getRevokeSignal(agentId: string): Promise<RevokeSignal | null> {
    return this.derived.getRevokeSignal(agentId);
  }

  listRevocations(): Promise<RevokeSignal[]> {
    return this.derived.listRevocations();
  }

  listPendingApprovals(): Promise<PendingApproval[]> {
    return this.derived.listPendingApprovals();
  }

  budgetUsed(agentId: string, sinceMs: number): Promise<number> {
    return this.derived.budgetUsed(agentId, sinceMs);
  }

  chargeBudget(
    agentId: string,
    charge: { id: string; amount: number; at: number },
    limit: number,
    sinceMs: number,
  ): Promise<BudgetChargeResult> {
    return this.derived.chargeBudget(agentId, charge, limit, sinceMs);
  }

  snapshot(): Promise<DerivedState> {
    return this.derived.snapshot();
  }

  replaceDerived(state: DerivedState): Promise<void> {
    return this.derived.replaceDerived(state);
  }

  markRestored(): Promise<void> {
    return this.derived.markRestored();
  }

  isRestored(): Promise<boolean> {
    return this.derived.isRestored();
  }

  acquireLock(key: string, holder: string, ttlMs: number): Promise<LockResult> {
    return this.locks.acquireLock(key, holder, ttlMs);
  }

  extendLock(key: string, token: number, ttlMs: number, owner: string | null): Promise<boolean> {
    return this.locks.extendLock(key, token, ttlMs, owner);
  }

  releaseLock(key: string, token: number, owner: string | null): Promise<boolean> {
    return this.locks.releaseLock(key, token, owner);
  }

  getLock(key: string): Promise<LockInfo | null> {
    return this.locks.getLock(key);
  }

  restoreLock(key: string, holder: string, token: number, ttlMs: number): Promise<void> {
    return this.locks.restoreLock(key, holder, token, ttlMs);
  }

  setExecution(execution: Execution): Promise<void> {
    return this.locks.setExecution(execution);
  }

  clearExecution(agentId: string, lockKey: string, token: number): Promise<void> {
    return this.locks.clearExecution(agentId, lockKey, token);
  }

  listExecutions(): Promise<Execution[]> {
    return this.locks.listExecutions();
  }

  acquireLease(name: string, owner: string, ttlMs: number): Promise<LeaseResult> {
    return this.leases.acquireLease(name, owner, ttlMs);
  }

  releaseLease(name: string, owner: string): Promise<void> {
    return this.leases.releaseLease(name, owner);
  }

  announceReplica(replica: ReplicaInfo, ttlMs: number): Promise<void> {
    return this.leases.announceReplica(replica, ttlMs);
  }

  listReplicas(): Promise<ReplicaInfo[]> {
    return this.leases.listReplicas();
  }

  withdrawReplica(id: string): Promise<void> {
    return this.leases.withdrawReplica(id);
  }

  heartbeat(agentId: string, ttlMs: number): Promise<void> {
    return this.locks.heartbeat(agentId, ttlMs);
  }

  lastHeartbeat(agentId: string): Promise<number | null> {
    return this.locks.lastHeartbeat(agentId);
  }

  hitRateLimit(key: string, limit: number, windowMs: number): Promise<{ allowed: boolean; count: number }> {
    return this.limits.hitRateLimit(key, limit, windowMs);
  }

  rateLimiter(name: string, points: number, durationSeconds: number): RateLimiterAbstract {
    return this.limits.rateLimiter(name, points, durationSeconds);
  }

  markDeliverySeen(deliveryId: string, ttlMs: number): Promise<boolean> {
    return this.limits.markDeliverySeen(deliveryId, ttlMs);
  }

  pushAlert(alert: Alert): Promise<void> {
    return this.alerts.pushAlert(alert);
  }

  takeAlerts(max: number): Promise<Alert[]> {
    return this.alerts.takeAlerts(max);
  }

  alertQueueLength(): Promise<number> {
    return this.alerts.alertQueueLength();
  }

  async ping(): Promise<void> {
    await this.redis.ping();
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}

export function redactUrl(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, '//***@');
}
