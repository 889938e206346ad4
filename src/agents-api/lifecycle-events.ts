import type { AgentRecord } from '../core/agent.js';
import type { IntegrationEvent } from '../core/lifecycle.js';
import type { Governance } from '../governance/governance.js';
import { agentStatus } from '../ledger/queries/agents.js';
import { ApiRefusal, notActive } from './api-refusal.js';
import { jsonBytes } from './payload-limits.js';

/** An agent's reports of its own lifecycle (`plan_created`, `execution_started`, …), kept in the ledger. */
export class LifecycleEvents {
  constructor(private readonly governance: Governance) {}

  /**
   * Records an agent's lifecycle event. Its data is bounded before the entry joins a group commit,
   * and the agent's status is read again inside the write: a revocation that landed meanwhile wins.
   */
  async record(agent: AgentRecord, event: IntegrationEvent, data: Record<string, unknown>) {
    const bytes = jsonBytes(data);
    const limit = this.governance.config.agent_api.max_event_data_kb * 1024;
    if (bytes > limit) {
      throw new ApiRefusal(413, 'too_large', `event data is ${bytes} bytes; the limit is ${limit}`);
    }
    let status: string | null = 'active';
    const [entry] = await this.governance.ledger.appendSoon(() => {
      status = agentStatus(this.governance.ledger, agent.id);
      if (status !== 'active') return [];
      return [{ type: 'integration.event', agentId: agent.id, actor: agent.id, payload: { event, data } }];
    });
    if (!entry) throw notActive(agent.id, status ?? undefined, undefined);
    return { recorded: true, seq: entry.seq };
  }
}
