import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis } from 'rate-limiter-flexible';
import { type AgentRecord, agentRecordSchema } from '../core/agent.js';
import type {
  BudgetCharge,
  DerivedState,
  PendingApproval,
  RevokeSignal,
  StateChange,
} from '../core/derived-state.js';
import { UserError } from '../platform/errors.js';
import {
  ACQUIRE_LOCK,
  CHARGE_BUDGET,
  CLEAR_EXECUTION,
  EXTEND_LOCK,
  HIT_RATE_LIMIT,
  PATCH_AGENT,
  RELEASE_LOCK,
  RESTORE_LOCK,
} from './redis-scripts.js';
import {
  type Alert,
  type BudgetChargeResult,
  type Execution,
  type LockInfo,
  type LockResult,
  StateNotRestoredError,
  type StateStore,
} from './state-store.js';

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
} as const;

type Scripted = Redis & {
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
  clearExecution(executions: string, agentId: string, token: number): Promise<number>;
  restoreLock(lock: string, fence: string, holder: string, token: number, ttl: number): Promise<number>;
};

/**
 * The state store on a Redis-protocol server (Redis, Valkey, DragonflyDB). Every change that
 * touches more than one key runs in a Lua script or a MULTI, so racing processes never both win.
 */
export class RedisStateStore implements StateStore {
  readonly kind = 'redis' as const;
  private readonly redis: Scripted;

  constructor(redis: Redis) {
    redis.defineCommand('acquireLock', { numberOfKeys: 3, lua: ACQUIRE_LOCK });
    redis.defineCommand('extendLock', { numberOfKeys: 1, lua: EXTEND_LOCK });
    redis.defineCommand('releaseLock', { numberOfKeys: 1, lua: RELEASE_LOCK });
    redis.defineCommand('chargeBudget', { numberOfKeys: 2, lua: CHARGE_BUDGET });
    redis.defineCommand('hitRateLimit', { numberOfKeys: 1, lua: HIT_RATE_LIMIT });
    redis.defineCommand('patchAgent', { numberOfKeys: 1, lua: PATCH_AGENT });
    redis.defineCommand('clearExecution', { numberOfKeys: 1, lua: CLEAR_EXECUTION });
    redis.defineCommand('restoreLock', { numberOfKeys: 2, lua: RESTORE_LOCK });
    this.redis = redis as Scripted;
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

  async apply(changes: readonly StateChange[]): Promise<void> {
    for (const change of changes) await this.applyOne(change);
  }

  private async applyOne(change: StateChange): Promise<void> {
    const r = this.redis;
    switch (change.kind) {
      case 'put_agent':
        await r
          .multi()
          .del(keys.agent(change.agent.id))
          .hset(keys.agent(change.agent.id), toHashFields(change.agent))
          .sadd(keys.agentsIndex, change.agent.id)
          .exec();
        return;
      case 'patch_agent':
        await r.patchAgent(keys.agent(change.agentId), ...Object.entries(toHashFields(change.patch)).flat());
        return;
      case 'set_revoke_signal': {
        const json = JSON.stringify(change.signal);
        await r
          .multi()
          .set(keys.revokeSignal(change.signal.agentId), json)
          .hset(keys.revocations, change.signal.agentId, json)
          .exec();
        return;
      }
      case 'clear_revoke_signal':
        await r.multi().del(keys.revokeSignal(change.agentId)).hdel(keys.revocations, change.agentId).exec();
        return;
      case 'charge_budget':
        await r
          .multi()
          .zadd(keys.budget(change.agentId), 'NX', change.charge.at, budgetMember(change.charge))
          .sadd(keys.budgetsIndex, change.agentId)
          .exec();
        return;
      case 'add_pending_approval':
        await r.hset(keys.pendingApprovals, change.approval.approvalId, JSON.stringify(change.approval));
        return;
      case 'remove_pending_approval':
        await r.hdel(keys.pendingApprovals, change.approvalId);
        return;
    }
  }

  async getAgent(agentId: string): Promise<AgentRecord | null> {
    return fromHashFields(await this.redis.hgetall(keys.agent(agentId)));
  }

  async listAgents(): Promise<AgentRecord[]> {
    const ids = (await this.redis.smembers(keys.agentsIndex)).sort();
    const agents = await Promise.all(ids.map((id) => this.getAgent(id)));
    return agents.filter((a): a is AgentRecord => a !== null);
  }

  async getRevokeSignal(agentId: string): Promise<RevokeSignal | null> {
    const json = await this.redis.get(keys.revokeSignal(agentId));
    return json ? (JSON.parse(json) as RevokeSignal) : null;
  }

  async listRevocations(): Promise<RevokeSignal[]> {
    const all = await this.redis.hvals(keys.revocations);
    return all.map((json) => JSON.parse(json) as RevokeSignal).sort((a, b) => a.seq - b.seq);
  }

  async listPendingApprovals(): Promise<PendingApproval[]> {
    const all = await this.redis.hvals(keys.pendingApprovals);
    return all
      .map((json) => JSON.parse(json) as PendingApproval)
      .sort((a, b) => a.approvalId.localeCompare(b.approvalId));
  }

  async budgetUsed(agentId: string, sinceMs: number): Promise<number> {
    const members = await this.redis.zrangebyscore(keys.budget(agentId), sinceMs, '+inf');
    return members.reduce((sum, m) => sum + parseBudgetMember(m, 0).amount, 0);
  }

  async chargeBudget(
    agentId: string,
    charge: { id: string; amount: number; at: number },
    limit: number,
    sinceMs: number,
  ): Promise<BudgetChargeResult> {
    const [used, crossed] = await this.redis.chargeBudget(
      keys.budget(agentId),
      keys.budgetsIndex,
      budgetMember(charge),
      charge.at,
      limit,
      sinceMs,
      agentId,
    );
    return { used: Number(used), crossedLimit: crossed === 1 };
  }

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
    await this.redis.hset(keys.executions, execution.agentId, JSON.stringify(execution));
  }

  async clearExecution(agentId: string, token: number): Promise<void> {
    await this.redis.clearExecution(keys.executions, agentId, token);
  }

  async listExecutions(): Promise<Execution[]> {
    const all = await this.redis.hvals(keys.executions);
    return all
      .map((json) => JSON.parse(json) as Execution)
      .sort((a, b) => a.agentId.localeCompare(b.agentId));
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

  async hitRateLimit(key: string, limit: number, windowMs: number) {
    const [allowed, count] = await this.redis.hitRateLimit(
      keys.rate(key),
      Date.now(),
      windowMs,
      limit,
      randomUUID(),
    );
    return { allowed: allowed === 1, count };
  }

  async markDeliverySeen(deliveryId: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.set(keys.delivery(deliveryId), '1', 'PX', ttlMs, 'NX')) === 'OK';
  }

  async pushAlert(alert: Alert): Promise<void> {
    await this.redis.rpush(keys.alerts, JSON.stringify(alert));
  }

  async takeAlerts(max: number): Promise<Alert[]> {
    const items = await this.redis.lpop(keys.alerts, max);
    return (items ?? []).map((json) => JSON.parse(json) as Alert);
  }

  async alertQueueLength(): Promise<number> {
    return this.redis.llen(keys.alerts);
  }

  async snapshot(): Promise<DerivedState> {
    const [agents, revocations, approvals, budgetAgents] = await Promise.all([
      this.listAgents(),
      this.redis.hgetall(keys.revocations),
      this.redis.hgetall(keys.pendingApprovals),
      this.redis.smembers(keys.budgetsIndex),
    ]);
    const budgets: Record<string, BudgetCharge[]> = {};
    for (const agentId of budgetAgents.sort()) {
      const flat = await this.redis.zrange(keys.budget(agentId), 0, -1, 'WITHSCORES');
      const charges: BudgetCharge[] = [];
      for (let i = 0; i < flat.length; i += 2) charges.push(parseBudgetMember(flat[i]!, Number(flat[i + 1])));
      if (charges.length) budgets[agentId] = charges.sort((a, b) => a.at - b.at || a.id.localeCompare(b.id));
    }
    return {
      agents: Object.fromEntries(agents.map((a) => [a.id, a])),
      revocations: mapValues(revocations, (json) => JSON.parse(json) as RevokeSignal),
      budgets,
      pendingApprovals: mapValues(approvals, (json) => JSON.parse(json) as PendingApproval),
    };
  }

  async markRestored(): Promise<void> {
    await this.redis.set(keys.restored, new Date().toISOString());
  }

  async isRestored(): Promise<boolean> {
    return (await this.redis.exists(keys.restored)) === 1;
  }

  async replaceDerived(state: DerivedState): Promise<void> {
    const [agentIds, revoked, budgetAgents] = await Promise.all([
      this.redis.smembers(keys.agentsIndex),
      this.redis.hkeys(keys.revocations),
      this.redis.smembers(keys.budgetsIndex),
    ]);
    const tx = this.redis.multi();
    tx.del(keys.agentsIndex, keys.revocations, keys.pendingApprovals, keys.budgetsIndex);
    for (const id of agentIds) tx.del(keys.agent(id));
    for (const id of revoked) tx.del(keys.revokeSignal(id));
    for (const id of budgetAgents) tx.del(keys.budget(id));
    for (const agent of Object.values(state.agents)) {
      tx.hset(keys.agent(agent.id), toHashFields(agent));
      tx.sadd(keys.agentsIndex, agent.id);
    }
    for (const signal of Object.values(state.revocations)) {
      tx.set(keys.revokeSignal(signal.agentId), JSON.stringify(signal));
      tx.hset(keys.revocations, signal.agentId, JSON.stringify(signal));
    }
    for (const approval of Object.values(state.pendingApprovals)) {
      tx.hset(keys.pendingApprovals, approval.approvalId, JSON.stringify(approval));
    }
    for (const [agentId, charges] of Object.entries(state.budgets)) {
      if (charges.length === 0) continue;
      tx.sadd(keys.budgetsIndex, agentId);
      for (const c of charges) tx.zadd(keys.budget(agentId), c.at, budgetMember(c));
    }
    await tx.exec();
  }

  rateLimiter(name: string, points: number, durationSeconds: number): RateLimiterAbstract {
    return new RateLimiterRedis({
      storeClient: this.redis,
      keyPrefix: `ratelimit:${name}`,
      points,
      duration: durationSeconds,
      // Not queued behind a reconnecting client: the in-process count answers at once meanwhile.
      rejectIfRedisNotReady: true,
      insuranceLimiter: new RateLimiterMemory({ points, duration: durationSeconds }),
    });
  }

  async ping(): Promise<void> {
    await this.redis.ping();
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}

/** An agent record is a hash of JSON-encoded fields, so a patch is one atomic HSET. */
function toHashFields(record: object): Record<string, string> {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, JSON.stringify(v)]));
}

function fromHashFields(fields: Record<string, string>): AgentRecord | null {
  if (Object.keys(fields).length === 0) return null;
  return agentRecordSchema.parse(
    Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, JSON.parse(v)])),
  );
}

function budgetMember(charge: { id: string; amount: number }): string {
  return `${charge.id}|${charge.amount}`;
}

function parseBudgetMember(member: string, at: number): BudgetCharge {
  const cut = member.lastIndexOf('|');
  return { id: member.slice(0, cut), amount: Number(member.slice(cut + 1)), at };
}

/** The owner argument of the lock scripts: "=owner" for an agent, "*" for the service itself. */
function who(owner: string | null): string {
  return owner === null ? '*' : `=${owner}`;
}

function parseLockValue(value: string): { token: number; holder: string } {
  const cut = value.indexOf('|');
  return { token: Number(value.slice(0, cut)), holder: value.slice(cut + 1) };
}

function mapValues<T>(record: Record<string, string>, fn: (json: string) => T): Record<string, T> {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, fn(v)]));
}

export function redactUrl(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, '//***@');
}
