import type { Redis } from 'ioredis';
import {
  ACQUIRE_LEASE,
  ACQUIRE_LOCK,
  CHARGE_BUDGET,
  CLEAR_EXECUTION,
  EXTEND_LOCK,
  HIT_RATE_LIMIT,
  PATCH_AGENT,
  RELEASE_LEASE,
  RELEASE_LOCK,
  RESTORE_LOCK,
} from './redis-scripts.js';

/** Key names. `agent:{id}:revoke_signal`, `revocations:ledger` and `alerts:queue` are part of the interface. */
export const keys = {
  agentsIndex: 'agents:index',
  agent: (agentId: string) => `agent:${agentId}:record`,
  revokeSignal: (agentId: string) => `agent:${agentId}:revoke_signal`,
  revocations: 'revocations:ledger',
  budget: (agentId: string) => `agent:${agentId}:budget`,
  budgetsIndex: 'budgets:index',
  pendingApprovals: 'approvals:pending',
  heartbeat: (agentId: string) => `agent:${agentId}:heartbeat`,
  /**
   * A lock and its fencing counter live under different prefixes, so no lock name, whatever it
   * holds, is another lock's counter (`acme/web:fence` once was). The counter moved from
   * `lock:{key}:fence`; the service raises the new one from the ledger on every start.
   */
  lock: (key: string) => `lock:${key}`,
  fence: (key: string) => `fence:${key}`,
  rate: (key: string) => `rate:${key}`,
  delivery: (id: string) => `delivery:${id}`,
  alerts: 'alerts:queue',
  /** Set once the store holds what the ledger says; gone when Redis comes back empty. */
  restored: 'state:restored',
  executions: 'executions:active',
  /** Periodic work's leases and their fences, apart from agents' locks. */
  lease: (name: string) => `lease:${name}`,
  leaseFence: (name: string) => `lease-fence:${name}`,
  replica: (id: string) => `replica:${id}`,
  replicas: 'replicas:index',
} as const;

/** A client with the Lua scripts of redis-scripts.ts defined as commands. */
export type Scripted = Redis & {
  acquireLock(
    lock: string,
    fence: string,
    restored: string,
    holder: string,
    ttl: number,
  ): Promise<[number, number | string, number]>;
  extendLock(lock: string, token: number, ttl: number, who: string): Promise<number>;
  releaseLock(lock: string, token: number, who: string): Promise<number>;
  chargeBudget(
    budget: string,
    index: string,
    member: string,
    at: number,
    limit: number,
    since: number,
    agentId: string,
  ): Promise<[string, number]>;
  hitRateLimit(
    rate: string,
    now: number,
    windowMs: number,
    limit: number,
    member: string,
  ): Promise<[number, number]>;
  patchAgent(agent: string, ...fieldsAndValues: string[]): Promise<number>;
  clearExecution(
    executions: string,
    field: string,
    agentId: string,
    token: number,
    lockKey: string,
  ): Promise<number>;
  restoreLock(lock: string, fence: string, holder: string, token: number, ttl: number): Promise<number>;
  acquireLease(
    lease: string,
    fence: string,
    owner: string,
    ttl: number,
  ): Promise<[number, number | string, number]>;
  releaseLease(lease: string, owner: string): Promise<number>;
};

/** Defines the scripts on `redis`: every change that touches more than one key runs in one. */
export function withScripts(redis: Redis): Scripted {
  redis.defineCommand('acquireLock', { numberOfKeys: 3, lua: ACQUIRE_LOCK });
  redis.defineCommand('extendLock', { numberOfKeys: 1, lua: EXTEND_LOCK });
  redis.defineCommand('releaseLock', { numberOfKeys: 1, lua: RELEASE_LOCK });
  redis.defineCommand('chargeBudget', { numberOfKeys: 2, lua: CHARGE_BUDGET });
  redis.defineCommand('hitRateLimit', { numberOfKeys: 1, lua: HIT_RATE_LIMIT });
  redis.defineCommand('patchAgent', { numberOfKeys: 1, lua: PATCH_AGENT });
  redis.defineCommand('clearExecution', { numberOfKeys: 1, lua: CLEAR_EXECUTION });
  redis.defineCommand('restoreLock', { numberOfKeys: 2, lua: RESTORE_LOCK });
  redis.defineCommand('acquireLease', { numberOfKeys: 2, lua: ACQUIRE_LEASE });
  redis.defineCommand('releaseLease', { numberOfKeys: 1, lua: RELEASE_LEASE });
  return redis as Scripted;
}
