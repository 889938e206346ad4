import type { AgentRecord } from '../core/agent.js';
import type { Governance } from '../governance/governance.js';
import { ApiRefusal, notHeld } from './api-refusal.js';

/** What the locks need from the runtime: the store behind its breaker, and the status check. */
export interface LockContext {
  governance: Governance;
  /** Runs a state-store call behind the runtime's timeout and breaker. */
  state<T>(fn: () => Promise<T>): Promise<T>;
  /** Refuses an agent the state store says is revoked or not active. */
  requireActive(agent: AgentRecord): Promise<void>;
}

/**
 * Execution locks with fencing tokens, for the agent API: one per agent or one per repository,
 * each grant held by one agent. Extend and release need the grant's token and its holder's
 * identity; every grant, extension, release and refusal is recorded in the ledger.
 */
export class ExecutionLocks {
  constructor(private readonly ctx: LockContext) {}

  private get settings() {
    return this.ctx.governance.config.agent_api;
  }

  /** GitHub compares repository names case-insensitively: `ACME/Web` is the lock of `acme/web`. */
  lockKey(agent: AgentRecord, repository: string | undefined): string {
    return this.settings.lock_scope === 'repo' && repository
      ? `exec:repo:${repository.toLowerCase()}`
      : `exec:agent:${agent.id}`;
  }

  async acquire(agent: AgentRecord, repository: string | undefined, ttlSeconds: number) {
    this.checkTtl(ttlSeconds);
    await this.ctx.requireActive(agent);
    const key = this.lockKey(agent, repository);
    const result = await this.ctx.state(() =>
      this.ctx.governance.state.acquireLock(key, `${agent.id}:${Date.now()}`, ttlSeconds * 1000),
    );
    if (!result.acquired) {
      await this.record(agent, 'refused', key, null, `held by ${result.holder.split(':')[0]}`);
      throw new ApiRefusal(
        409,
        'lock_held',
        `the execution lock ${key} is held by ${result.holder.split(':')[0]} until ${new Date(result.expiresAt).toISOString()}`,
      );
    }
    await this.ctx.state(() =>
      this.ctx.governance.state.setExecution({
        agentId: agent.id,
        lockKey: key,
        token: result.token,
        startedAt: Date.now(),
      }),
    );
    await this.ctx.state(() =>
      this.ctx.governance.state.heartbeat(agent.id, this.settings.heartbeat_ttl_seconds * 1000),
    );
    try {
      await this.record(agent, 'acquired', key, result.token, `for ${ttlSeconds} s`, ttlSeconds);
    } catch (error) {
      // A lock is a permission: without its ledger record it is not granted (principle 13).
      await this.ctx.state(() => this.ctx.governance.state.releaseLock(key, result.token, agent.id));
      await this.ctx.state(() => this.ctx.governance.state.clearExecution(agent.id, result.token));
      throw new ApiRefusal(
        503,
        'unavailable',
        'the lock cannot be recorded in the ledger now, so it was not granted; try again shortly',
        { cause: error },
      );
    }
    return { fencingToken: result.token, lockKey: key, expiresAt: new Date(result.expiresAt).toISOString() };
  }

  /** Only the grant's holder extends it: the fencing token and the caller's identity must both match. */
  async extend(agent: AgentRecord, repository: string | undefined, token: number, ttlSeconds: number) {
    this.checkTtl(ttlSeconds);
    await this.ctx.requireActive(agent);
    const key = await this.keyOfExecution(agent, repository);
    const extended = await this.ctx.state(() =>
      this.ctx.governance.state.extendLock(key, token, ttlSeconds * 1000, agent.id),
    );
    if (!extended) {
      await this.record(agent, 'refused', key, token, 'extend by a caller that does not hold this grant');
      throw notHeld(agent, key, token);
    }
    await this.record(agent, 'extended', key, token, `for ${ttlSeconds} s`, ttlSeconds);
    return {
      fencingToken: token,
      lockKey: key,
      expiresAt: new Date(Date.now() + ttlSeconds * 1000).toISOString(),
    };
  }

  /** Only the grant's holder releases it: the fencing token and the caller's identity must both match. */
  async release(agent: AgentRecord, repository: string | undefined, token: number) {
    await this.ctx.requireActive(agent);
    const key = await this.keyOfExecution(agent, repository);
    if (!(await this.ctx.state(() => this.ctx.governance.state.releaseLock(key, token, agent.id)))) {
      await this.record(agent, 'refused', key, token, 'release by a caller that does not hold this grant');
      throw notHeld(agent, key, token);
    }
    await this.ctx.state(() => this.ctx.governance.state.clearExecution(agent.id, token));
    await this.record(agent, 'released', key, token, 'released by its holder');
    return { released: true, lockKey: key };
  }

  /**
   * Turns executions whose heartbeat expired into `heartbeat_missed` violations and frees their
   * locks. Returns the agents it caught.
   */
  async sweepHeartbeats(): Promise<string[]> {
    const g = this.ctx.governance;
    const grace = this.settings.heartbeat_ttl_seconds * 1000;
    const caught: string[] = [];
    for (const execution of await this.ctx.state(() => g.state.listExecutions())) {
      if (Date.now() - execution.startedAt < grace) continue;
      if ((await this.ctx.state(() => g.state.lastHeartbeat(execution.agentId))) !== null) continue;
      await this.ctx.state(() => g.state.releaseLock(execution.lockKey, execution.token, null));
      await this.ctx.state(() => g.state.clearExecution(execution.agentId, execution.token));
      await g.recordViolation(
        execution.agentId,
        {
          type: 'heartbeat_missed',
          details: `no heartbeat for ${this.settings.heartbeat_ttl_seconds} s while holding ${execution.lockKey}; lock freed`,
        },
        `heartbeat:${execution.lockKey}:${execution.token}`,
        'heartbeat-sweeper',
      );
      await g.ledger.appendSoon([
        {
          type: 'execution.lock',
          agentId: execution.agentId,
          actor: 'heartbeat-sweeper',
          payload: {
            op: 'expired',
            lockKey: execution.lockKey,
            token: execution.token,
            detail: 'heartbeat missed; lock freed',
          },
        },
      ]);
      caught.push(execution.agentId);
    }
    return caught;
  }

  private checkTtl(ttlSeconds: number) {
    if (ttlSeconds > this.settings.max_lock_ttl_seconds) {
      throw new ApiRefusal(
        400,
        'ttl_too_long',
        `ttlSeconds may be at most ${this.settings.max_lock_ttl_seconds}`,
      );
    }
  }

  private async keyOfExecution(agent: AgentRecord, repository: string | undefined): Promise<string> {
    const executions = await this.ctx.state(() => this.ctx.governance.state.listExecutions());
    return executions.find((e) => e.agentId === agent.id)?.lockKey ?? this.lockKey(agent, repository);
  }

  private async record(
    agent: AgentRecord,
    op: 'acquired' | 'extended' | 'released' | 'refused',
    lockKey: string,
    token: number | null,
    detail: string,
    ttlSeconds?: number,
  ) {
    const payload = { op, lockKey, token, detail, ...(ttlSeconds ? { ttlSeconds } : {}) };
    await this.ctx.governance.ledger.appendSoon([
      { type: 'execution.lock', agentId: agent.id, actor: agent.id, payload },
    ]);
  }
}
