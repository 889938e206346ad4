import type { AgentRecord } from '../core/agent.js';
import type { Governance } from '../governance/governance.js';
import type { Execution } from '../state/state-store.js';
import type { StateGuard } from './state-guard.js';

/**
 * An agent holding an execution lock says it is alive; one that stops saying so for the
 * heartbeat TTL has its lock freed and a `heartbeat_missed` violation recorded.
 */
export class Heartbeats {
  constructor(
    private readonly governance: Governance,
    private readonly guard: StateGuard,
  ) {}

  private get ttlSeconds() {
    return this.governance.config.agent_api.heartbeat_ttl_seconds;
  }

  async beat(agent: AgentRecord) {
    await this.guard.requireActive(agent);
    await this.guard.run(() => this.governance.state.heartbeat(agent.id, this.ttlSeconds * 1000));
    return { ok: true, validForSeconds: this.ttlSeconds };
  }

  /**
   * Turns executions whose heartbeat expired into `heartbeat_missed` violations and frees their
   * locks. Only a lock the agent still held counts: one that lapsed by its own TTL (or was released
   * meanwhile) was not being held when the heartbeats stopped, and its execution is just forgotten.
   * Returns the agents it caught.
   */
  async sweep(): Promise<string[]> {
    const state = this.governance.state;
    const grace = this.ttlSeconds * 1000;
    const caught: string[] = [];
    for (const execution of await this.guard.run(() => state.listExecutions())) {
      if (this.governance.clock.ms() - execution.startedAt < grace) continue;
      if ((await this.guard.run(() => state.lastHeartbeat(execution.agentId))) !== null) continue;
      // Only the agent's own grant: the same token may have gone to another after a store rebuild.
      const freed = await this.guard.run(() =>
        state.releaseLock(execution.lockKey, execution.token, execution.agentId),
      );
      await this.guard.run(() => state.clearExecution(execution.agentId, execution.lockKey, execution.token));
      if (!freed) continue;
      await this.recordMissed(execution);
      caught.push(execution.agentId);
    }
    return caught;
  }

  private async recordMissed(execution: Execution): Promise<void> {
    const g = this.governance;
    await g.recordViolation(
      execution.agentId,
      {
        type: 'heartbeat_missed',
        details: `no heartbeat for ${this.ttlSeconds} s while holding ${execution.lockKey}; lock freed`,
      },
      `heartbeat:${execution.lockKey}:${execution.token}`,
      'heartbeat-sweeper',
    );
    await g.store.append({
      type: 'execution.lock',
      agentId: execution.agentId,
      actor: 'heartbeat-sweeper',
      payload: {
        op: 'expired',
        lockKey: execution.lockKey,
        token: execution.token,
        detail: 'heartbeat missed; lock freed',
      },
    });
  }
}
