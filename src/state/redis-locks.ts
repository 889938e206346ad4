import { keys, type Scripted } from './redis-keys.js';
import {
  type Execution,
  executionField,
  type LockInfo,
  type LockResult,
  StateNotRestoredError,
} from './state-store.js';

/** Locks with fencing tokens, the executions running under them, and heartbeats, on Redis. */
export class RedisLocks {
  constructor(private readonly redis: Scripted) {}

  async acquireLock(key: string, holder: string, ttlMs: number): Promise<LockResult> {
    const [ok, value, ttl] = await this.redis.acquireLock(
      keys.lock(key),
      keys.fence(key),
      keys.restored,
      holder,
      ttlMs,
    );
    if (ok === -1) throw new StateNotRestoredError();
    const expiresAt = Date.now() + Number(ttl);
    if (ok === 1) return { acquired: true, token: Number(value), expiresAt };
    return { acquired: false, holder: parseLockValue(String(value)).holder, expiresAt };
  }

  async extendLock(key: string, token: number, ttlMs: number, owner: string | null): Promise<boolean> {
    return (await this.redis.extendLock(keys.lock(key), token, ttlMs, who(owner))) === 1;
  }

  async releaseLock(key: string, token: number, owner: string | null): Promise<boolean> {
    return (await this.redis.releaseLock(keys.lock(key), token, who(owner))) === 1;
  }

  async getLock(key: string): Promise<LockInfo | null> {
    const [value, ttl] = await Promise.all([this.redis.get(keys.lock(key)), this.redis.pttl(keys.lock(key))]);
    if (!value || ttl < 0) return null;
    return { ...parseLockValue(value), expiresAt: Date.now() + ttl };
  }

  async setExecution(execution: Execution): Promise<void> {
    const field = executionField(execution.agentId, execution.lockKey);
    await this.redis.hset(keys.executions, field, JSON.stringify(execution));
  }

  async clearExecution(agentId: string, lockKey: string, token: number): Promise<void> {
    await this.redis.clearExecution(
      keys.executions,
      executionField(agentId, lockKey),
      agentId,
      token,
      lockKey,
    );
  }

  async listExecutions(): Promise<Execution[]> {
    const all = await this.redis.hvals(keys.executions);
    return all
      .map((json) => JSON.parse(json) as Execution)
      .sort((a, b) => a.agentId.localeCompare(b.agentId) || a.lockKey.localeCompare(b.lockKey));
  }

  async restoreLock(key: string, holder: string, token: number, ttlMs: number): Promise<void> {
    await this.redis.restoreLock(
      keys.lock(key),
      keys.fence(key),
      holder,
      token,
      Math.max(0, Math.round(ttlMs)),
    );
  }

  async heartbeat(agentId: string, ttlMs: number): Promise<void> {
    await this.redis.set(keys.heartbeat(agentId), String(Date.now()), 'PX', ttlMs);
  }

  async lastHeartbeat(agentId: string): Promise<number | null> {
    const value = await this.redis.get(keys.heartbeat(agentId));
    return value ? Number(value) : null;
  }
}

/** The owner argument of the lock scripts: "=owner" for an agent, "*" for the service itself. */
function who(owner: string | null): string {
  return owner === null ? '*' : `=${owner}`;
}

function parseLockValue(value: string): { token: number; holder: string } {
  const cut = value.indexOf('|');
  return { token: Number(value.slice(0, cut)), holder: value.slice(cut + 1) };
}
