import type { AgentRecord } from '../core/agent.js';
import { restoredHolder } from '../core/execution-locks.js';
import type { Governance } from '../governance/governance.js';
import { ApiRefusal, notHeld } from './api-refusal.js';
import type { StateGuard } from './state-guard.js';

/**
 * Execution locks with fencing tokens, for the agent API: one per agent or one per repository,
 * each grant held by one agent. Extend and release need the grant's token and its holder's
 * identity; every grant, extension, release and refusal is recorded in the ledger.
 */
export class ExecutionLocks {
  constructor(
    private readonly governance: Governance,
    private readonly guard: StateGuard,
  ) {}

  private get settings() {
    return this.governance.config.agent_api;
  }

  /** GitHub compares repository names case-insensitively: `ACME/Web` is the lock of `acme/web`. */
  lockKey(agent: AgentRecord, repository: string | undefined): string {
    return this.settings.lock_scope === 'repo' && repository
      ? `exec:repo:${repository.toLowerCase()}`
      : `exec:agent:${agent.id}`;
  }

  async acquire(agent: AgentRecord, repository: string | undefined, ttlSeconds: number) {
    this.checkTtl(ttlSeconds);
    await this.guard.requireActive(agent);
    const key = this.lockKey(agent, repository);
    const holder = `${agent.id}:${this.governance.clock.ms()}`;
    const result = await this.guard.run(() =>
      this.governance.state.acquireLock(key, holder, ttlSeconds * 1000),
    );
    if (!result.acquired) {
      await this.record(agent, 'refused', key, null, `held by ${result.holder.split(':')[0]}`);
      throw new ApiRefusal(
        409,
        'lock_held',
        `the execution lock ${key} is held by ${result.holder.split(':')[0]} until ${new Date(result.expiresAt).toISOString()}`,
      );
    }
    await this.guard.run(() =>
      this.governance.state.setExecution({
        agentId: agent.id,
        lockKey: key,
        token: result.token,
        startedAt: this.governance.clock.ms(),
      }),
    );
    await this.guard.run(() =>
      this.governance.state.heartbeat(agent.id, this.settings.heartbeat_ttl_seconds * 1000),
    );
    try {
      await this.record(agent, 'acquired', key, result.token, `for ${ttlSeconds} s`, ttlSeconds);
    } catch (error) {
      // A lock is a permission: without its ledger record it is not granted (principle 13).
      await this.guard.run(() => this.governance.state.releaseLock(key, result.token, agent.id));
      await this.guard.run(() => this.governance.state.clearExecution(agent.id, result.token));
      throw new ApiRefusal(
        503,
        'unavailable',
        'the lock cannot be recorded in the ledger now, so it was not granted; try again shortly',
        { cause: error },
      );
    }
    await this.stillHeld(agent, key, result.token, holder);
    return { fencingToken: result.token, lockKey: key, expiresAt: new Date(result.expiresAt).toISOString() };
  }

  /**
   * The state store may have restarted empty while the grant was being recorded, and been rebuilt
   * from a ledger that did not have it yet: another agent may then get the lock, even its token.
   * The grant stands only if the store still holds it, as granted or as rebuilt from its record.
   */
  private async stillHeld(agent: AgentRecord, key: string, token: number, holder: string): Promise<void> {
    const lock = await this.guard.run(() => this.governance.state.getLock(key)).catch(() => null);
    if (lock?.token === token && (lock.holder === holder || lock.holder === restoredHolder(agent.id))) return;
    const why = 'lost while it was being recorded (the state store restarted); not granted';
    // Its execution must go too: the heartbeat sweeper would otherwise free the lock by this token,
    // which the rebuilt store may have given to another agent, and charge this one a missed heartbeat.
    await this.guard.run(() => this.governance.state.clearExecution(agent.id, token)).catch(() => undefined);
    await this.record(agent, 'lost', key, token, why).catch(() => undefined);
    throw new ApiRefusal(503, 'unavailable', `the lock ${key} was ${why}; try again shortly`);
  }

  /** Only the grant's holder extends it: the fencing token and the caller's identity must both match. */
  async extend(agent: AgentRecord, repository: string | undefined, token: number, ttlSeconds: number) {
    this.checkTtl(ttlSeconds);
    await this.guard.requireActive(agent);
    const key = await this.keyOfExecution(agent, repository);
    const extended = await this.guard.run(() =>
      this.governance.state.extendLock(key, token, ttlSeconds * 1000, agent.id),
    );
    if (!extended) {
      await this.record(agent, 'refused', key, token, 'extend by a caller that does not hold this grant');
      throw notHeld(agent, key, token);
    }
    await this.record(agent, 'extended', key, token, `for ${ttlSeconds} s`, ttlSeconds);
    return {
      fencingToken: token,
      lockKey: key,
      expiresAt: new Date(this.governance.clock.ms() + ttlSeconds * 1000).toISOString(),
    };
  }

  /** Only the grant's holder releases it: the fencing token and the caller's identity must both match. */
  async release(agent: AgentRecord, repository: string | undefined, token: number) {
    await this.guard.requireActive(agent);
    const key = await this.keyOfExecution(agent, repository);
    if (!(await this.guard.run(() => this.governance.state.releaseLock(key, token, agent.id)))) {
      await this.record(agent, 'refused', key, token, 'release by a caller that does not hold this grant');
      throw notHeld(agent, key, token);
    }
    await this.guard.run(() => this.governance.state.clearExecution(agent.id, token));
    await this.record(agent, 'released', key, token, 'released by its holder');
    return { released: true, lockKey: key };
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
    const executions = await this.guard.run(() => this.governance.state.listExecutions());
    return executions.find((e) => e.agentId === agent.id)?.lockKey ?? this.lockKey(agent, repository);
  }

  private async record(
    agent: AgentRecord,
    op: 'acquired' | 'extended' | 'released' | 'refused' | 'lost',
    lockKey: string,
    token: number | null,
    detail: string,
    ttlSeconds?: number,
  ) {
    const payload = { op, lockKey, token, detail, ...(ttlSeconds ? { ttlSeconds } : {}) };
    await this.governance.store.append({
      type: 'execution.lock',
      agentId: agent.id,
      actor: agent.id,
      payload,
    });
  }
}
