import { randomBytes } from 'node:crypto';
import type { AgentRecord } from '../core/agent.js';
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
    // This grant's own name: the ledger and a rebuilt store tell it apart from any other grant,
    // even one of the same agent with the same token (a retry answered by a rebuilt store).
    const holder = `${agent.id}:${this.governance.clock.ms()}:${randomBytes(6).toString('hex')}`;
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
    const { token } = result;
    try {
      await this.record(agent, 'acquired', key, token, `for ${ttlSeconds} s`, { ttlSeconds, grant: holder });
    } catch (error) {
      // A lock is a permission: without its ledger record it is not granted (principle 13).
      await this.letGo(key, token, holder);
      throw new ApiRefusal(
        503,
        'unavailable',
        'the lock cannot be recorded in the ledger now, so it was not granted; try again shortly',
        { cause: error },
      );
    }
    // The state store may have restarted empty while the grant was being recorded, and been rebuilt
    // from a ledger that did not have it yet: another grant may then hold the lock, even its token.
    // The grant stands only if the store still holds it, as granted or as rebuilt from its record.
    const lock = await this.guard.run(() => this.governance.state.getLock(key)).catch(() => null);
    if (lock?.token !== token || lock.holder !== holder)
      return this.lost(
        agent,
        key,
        token,
        holder,
        'lost while it was being recorded (the state store restarted)',
      );
    try {
      const startedAt = this.governance.clock.ms();
      await this.guard.run(() =>
        this.governance.state.setExecution({ agentId: agent.id, lockKey: key, token, startedAt }),
      );
      await this.guard.run(() =>
        this.governance.state.heartbeat(agent.id, this.settings.heartbeat_ttl_seconds * 1000),
      );
    } catch {
      // Its execution may be noted already: forgotten, or the heartbeat sweeper would charge a
      // grant the agent was told it did not get (only this path: a lost grant's twin, a retry
      // given the same token, keeps its own).
      await this.guard
        .run(() => this.governance.state.clearExecution(agent.id, key, token))
        .catch(() => undefined);
      return this.lost(
        agent,
        key,
        token,
        holder,
        'recorded, but the state store failed before it was answered',
      );
    }
    return { fencingToken: token, lockKey: key, expiresAt: new Date(result.expiresAt).toISOString() };
  }

  /**
   * A recorded grant the agent is told it did not get: let go of it in the store if it still holds
   * it, and record it `lost`, so that no rebuild restores it.
   */
  private async lost(
    agent: AgentRecord,
    key: string,
    token: number,
    holder: string,
    why: string,
  ): Promise<never> {
    await this.letGo(key, token, holder);
    await this.record(agent, 'lost', key, token, `${why}; not granted`, { grant: holder }).catch(
      () => undefined,
    );
    throw new ApiRefusal(503, 'unavailable', `the lock ${key} was ${why}; not granted; try again shortly`);
  }

  /** Releases the grant named `holder` only (never another grant of the same agent), if the store still has it. */
  private async letGo(key: string, token: number, holder: string): Promise<void> {
    await this.guard.run(() => this.governance.state.releaseLock(key, token, holder)).catch(() => undefined);
  }

  /** Only the grant's holder extends it: the fencing token and the caller's identity must both match. */
  async extend(agent: AgentRecord, lockKey: string | undefined, token: number, ttlSeconds: number) {
    this.checkTtl(ttlSeconds);
    await this.guard.requireActive(agent);
    const key = await this.keyOfGrant(agent, token, lockKey);
    const extended = await this.guard.run(() =>
      this.governance.state.extendLock(key, token, ttlSeconds * 1000, agent.id),
    );
    if (!extended) {
      await this.record(agent, 'refused', key, token, 'extend by a caller that does not hold this grant');
      throw notHeld(agent, key, token);
    }
    await this.record(agent, 'extended', key, token, `for ${ttlSeconds} s`, { ttlSeconds });
    return {
      fencingToken: token,
      lockKey: key,
      expiresAt: new Date(this.governance.clock.ms() + ttlSeconds * 1000).toISOString(),
    };
  }

  /** Only the grant's holder releases it: the fencing token and the caller's identity must both match. */
  async release(agent: AgentRecord, lockKey: string | undefined, token: number) {
    await this.guard.requireActive(agent);
    const key = await this.keyOfGrant(agent, token, lockKey);
    if (!(await this.guard.run(() => this.governance.state.releaseLock(key, token, agent.id)))) {
      await this.record(agent, 'refused', key, token, 'release by a caller that does not hold this grant');
      throw notHeld(agent, key, token);
    }
    await this.guard.run(() => this.governance.state.clearExecution(agent.id, key, token));
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

  /**
   * The lock a caller's extend or release is about: the `lockKey` it sent (the grant's answer), or
   * the one lock it holds with this token. Fencing tokens count per lock, so an agent holding two
   * repositories' locks may hold the same token twice: then the token alone names neither.
   */
  private async keyOfGrant(agent: AgentRecord, token: number, lockKey: string | undefined): Promise<string> {
    if (lockKey) return lockKey;
    const executions = (await this.guard.run(() => this.governance.state.listExecutions())).filter(
      (e) => e.agentId === agent.id,
    );
    const withToken = [...new Set(executions.filter((e) => e.token === token).map((e) => e.lockKey))].sort();
    if (withToken.length > 1)
      throw new ApiRefusal(
        409,
        'ambiguous_lock',
        `${agent.id} holds ${withToken.length} locks with fencing token ${token} (${withToken.join(', ')}): send the lockKey the grant answered`,
      );
    return (
      withToken[0] ?? (executions.length === 1 ? executions[0]!.lockKey : this.lockKey(agent, undefined))
    );
  }

  private async record(
    agent: AgentRecord,
    op: 'acquired' | 'extended' | 'released' | 'refused' | 'lost',
    lockKey: string,
    token: number | null,
    detail: string,
    more: { ttlSeconds?: number; grant?: string } = {},
  ) {
    const payload = { op, lockKey, token, detail, ...more };
    await this.governance.store.append({
      type: 'execution.lock',
      agentId: agent.id,
      actor: agent.id,
      payload,
    });
  }
}
