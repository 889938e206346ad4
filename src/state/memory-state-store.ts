import { type RateLimiterAbstract, RateLimiterMemory } from 'rate-limiter-flexible';
import type { AgentRecord } from '../core/agent.js';
import {
  applyStateChanges,
  type DerivedState,
  emptyDerivedState,
  type StateChange,
} from '../core/derived-state.js';
import {
  type Alert,
  type BudgetChargeResult,
  type Execution,
  executionField,
  type LeaseResult,
  type LockInfo,
  type LockResult,
  ownsLock,
  type ReplicaInfo,
  type StateStore,
} from './state-store.js';

interface Expiring<T> {
  value: T;
  expiresAt: number;
}

/**
 * The in-process store: the embedded default for a single node. Same contract as Redis; state
 * lives in this process and is rebuilt from the ledger at start.
 */
export class MemoryStateStore implements StateStore {
  readonly kind = 'memory' as const;
  private derived: DerivedState = emptyDerivedState();
  private readonly locks = new Map<string, Expiring<{ holder: string; token: number }>>();
  private readonly fences = new Map<string, number>();
  private readonly heartbeats = new Map<string, Expiring<number>>();
  private readonly rates = new Map<string, number[]>();
  private readonly deliveries = new Map<string, number>();
  private alerts: Alert[] = [];
  private readonly executions = new Map<string, Execution>();
  private readonly leases = new Map<string, Expiring<{ owner: string; fence: number }>>();
  private readonly leaseFences = new Map<string, number>();
  private readonly replicas = new Map<string, Expiring<ReplicaInfo>>();

  constructor(private readonly now: () => number = Date.now) {}

  async apply(changes: readonly StateChange[]): Promise<void> {
    applyStateChanges(this.derived, structuredClone(changes));
  }

  async getAgent(agentId: string): Promise<AgentRecord | null> {
    const agent = this.derived.agents[agentId];
    return agent ? structuredClone(agent) : null;
  }

  async listAgents(): Promise<AgentRecord[]> {
    return Object.values(structuredClone(this.derived.agents)).sort((a, b) => a.id.localeCompare(b.id));
  }

  async getRevokeSignal(agentId: string) {
    return structuredClone(this.derived.revocations[agentId] ?? null);
  }

  async listRevocations() {
    return Object.values(structuredClone(this.derived.revocations)).sort((a, b) => a.seq - b.seq);
  }

  async listPendingApprovals() {
    return Object.values(structuredClone(this.derived.pendingApprovals)).sort((a, b) =>
      a.approvalId.localeCompare(b.approvalId),
    );
  }

  async budgetUsed(agentId: string, sinceMs: number): Promise<number> {
    return this.used(agentId, sinceMs);
  }

  async chargeBudget(
    agentId: string,
    charge: { id: string; amount: number; at: number },
    limit: number,
    sinceMs: number,
  ): Promise<BudgetChargeResult> {
    // No await between reading and writing: that is what makes the charge atomic in one process.
    const before = this.used(agentId, sinceMs);
    const known = (this.derived.budgets[agentId] ?? []).some((c) => c.id === charge.id);
    applyStateChanges(this.derived, [{ kind: 'charge_budget', agentId, charge: { ...charge } }]);
    const used = this.used(agentId, sinceMs);
    return { used, crossedLimit: !known && before < limit && used >= limit };
  }

  async acquireLock(key: string, holder: string, ttlMs: number): Promise<LockResult> {
    const now = this.now();
    const current = this.live(this.locks, key, now);
    if (current) return { acquired: false, holder: current.value.holder, expiresAt: current.expiresAt };
    const token = (this.fences.get(key) ?? 0) + 1;
    this.fences.set(key, token);
    this.locks.set(key, { value: { holder, token }, expiresAt: now + ttlMs });
    return { acquired: true, token, expiresAt: now + ttlMs };
  }

  async extendLock(key: string, token: number, ttlMs: number, owner: string | null): Promise<boolean> {
    const now = this.now();
    const current = this.live(this.locks, key, now);
    if (!current || current.value.token !== token || !ownsLock(current.value.holder, owner)) return false;
    current.expiresAt = now + ttlMs;
    return true;
  }

  async releaseLock(key: string, token: number, owner: string | null): Promise<boolean> {
    const current = this.live(this.locks, key, this.now());
    if (!current || current.value.token !== token || !ownsLock(current.value.holder, owner)) return false;
    this.locks.delete(key);
    return true;
  }

  async getLock(key: string): Promise<LockInfo | null> {
    const current = this.live(this.locks, key, this.now());
    return current ? { ...current.value, expiresAt: current.expiresAt } : null;
  }

  async setExecution(execution: Execution): Promise<void> {
    this.executions.set(executionField(execution.agentId, execution.lockKey), { ...execution });
  }

  async clearExecution(agentId: string, lockKey: string, token: number): Promise<void> {
    const field = executionField(agentId, lockKey);
    if (this.executions.get(field)?.token === token) this.executions.delete(field);
  }

  async listExecutions(): Promise<Execution[]> {
    return [...this.executions.values()]
      .map((e) => ({ ...e }))
      .sort((a, b) => a.agentId.localeCompare(b.agentId) || a.lockKey.localeCompare(b.lockKey));
  }

  async restoreLock(key: string, holder: string, token: number, ttlMs: number): Promise<void> {
    this.fences.set(key, Math.max(this.fences.get(key) ?? 0, token));
    if (ttlMs > 0 && !this.live(this.locks, key, this.now()))
      this.locks.set(key, { value: { holder, token }, expiresAt: this.now() + ttlMs });
  }

  async heartbeat(agentId: string, ttlMs: number): Promise<void> {
    const now = this.now();
    this.heartbeats.set(agentId, { value: now, expiresAt: now + ttlMs });
  }

  async lastHeartbeat(agentId: string): Promise<number | null> {
    return this.live(this.heartbeats, agentId, this.now())?.value ?? null;
  }

  async acquireLease(name: string, owner: string, ttlMs: number): Promise<LeaseResult> {
    const now = this.now();
    const current = this.live(this.leases, name, now);
    if (current && current.value.owner !== owner)
      return { held: false, holder: current.value.owner, expiresAt: current.expiresAt };
    const fence = current?.value.fence ?? (this.leaseFences.get(name) ?? 0) + 1;
    this.leaseFences.set(name, fence);
    this.leases.set(name, { value: { owner, fence }, expiresAt: now + ttlMs });
    return { held: true, fence, expiresAt: now + ttlMs };
  }

  async releaseLease(name: string, owner: string): Promise<void> {
    if (this.live(this.leases, name, this.now())?.value.owner === owner) this.leases.delete(name);
  }

  async announceReplica(replica: ReplicaInfo, ttlMs: number): Promise<void> {
    this.replicas.set(replica.id, { value: structuredClone(replica), expiresAt: this.now() + ttlMs });
  }

  async listReplicas(): Promise<ReplicaInfo[]> {
    const now = this.now();
    return [...this.replicas.keys()].sort().flatMap((id) => {
      const r = this.live(this.replicas, id, now);
      return r ? [structuredClone(r.value)] : [];
    });
  }

  async withdrawReplica(id: string): Promise<void> {
    this.replicas.delete(id);
  }

  async hitRateLimit(key: string, limit: number, windowMs: number) {
    const now = this.now();
    const hits = (this.rates.get(key) ?? []).filter((t) => t > now - windowMs);
    const allowed = hits.length < limit;
    if (allowed) hits.push(now);
    this.rates.set(key, hits);
    return { allowed, count: hits.length };
  }

  rateLimiter(name: string, points: number, durationSeconds: number): RateLimiterAbstract {
    return new RateLimiterMemory({ keyPrefix: `ratelimit:${name}`, points, duration: durationSeconds });
  }

  async markDeliverySeen(deliveryId: string, ttlMs: number): Promise<boolean> {
    const now = this.now();
    const expiresAt = this.deliveries.get(deliveryId);
    if (expiresAt !== undefined && expiresAt > now) return false;
    this.deliveries.set(deliveryId, now + ttlMs);
    return true;
  }

  async pushAlert(alert: Alert): Promise<void> {
    this.alerts.push(structuredClone(alert));
  }

  async takeAlerts(max: number): Promise<Alert[]> {
    return this.alerts.splice(0, max);
  }

  async alertQueueLength(): Promise<number> {
    return this.alerts.length;
  }

  async snapshot(): Promise<DerivedState> {
    return structuredClone(this.derived);
  }

  async replaceDerived(state: DerivedState): Promise<void> {
    this.derived = structuredClone(state);
  }

  /** An in-process store is never emptied behind the process's back: always restored. */
  async markRestored(): Promise<void> {}

  async isRestored(): Promise<boolean> {
    return true;
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {}

  private used(agentId: string, sinceMs: number): number {
    return (this.derived.budgets[agentId] ?? [])
      .filter((c) => c.at >= sinceMs)
      .reduce((sum, c) => sum + c.amount, 0);
  }

  private live<T>(map: Map<string, Expiring<T>>, key: string, now: number): Expiring<T> | undefined {
    const item = map.get(key);
    if (item && item.expiresAt <= now) {
      map.delete(key);
      return undefined;
    }
    return item;
  }
}
