import { createHash } from 'node:crypto';
import type { AgentRecord } from '../core/agent.js';
import type { Governance } from '../governance/governance.js';
import { agentStatus, latestSessionCheckpoint, saveSessionCheckpoint } from '../ledger/queries/agents.js';
import { ApiRefusal, notActive } from './api-refusal.js';

/** An agent's session state, saved opaque and size-limited, so a restarted agent can resume. */
export class SessionCheckpoints {
  constructor(private readonly governance: Governance) {}

  async save(agent: AgentRecord, state: unknown) {
    const text = JSON.stringify(state);
    const limit = this.governance.config.agent_api.max_session_checkpoint_kb * 1024;
    if (Buffer.byteLength(text) > limit) {
      throw new ApiRefusal(
        413,
        'checkpoint_too_large',
        `session state is ${Buffer.byteLength(text)} bytes; the limit is ${limit}`,
      );
    }
    const ledger = this.governance.ledger;
    const entry = ledger.atomically(() => {
      // Read inside the write: a revocation recorded since the token was checked refuses the save.
      const status = agentStatus(this.governance.ledger, agent.id);
      if (status !== 'active') throw notActive(agent.id, status ?? undefined, undefined);
      const e = ledger.append({
        type: 'session.checkpoint_saved',
        agentId: agent.id,
        actor: agent.id,
        payload: { sha256: createHash('sha256').update(text).digest('hex'), bytes: Buffer.byteLength(text) },
      });
      saveSessionCheckpoint(ledger, { seq: e.seq, agentId: agent.id, state: text, savedAt: e.ts });
      return e;
    });
    return { saved: true, seq: entry.seq, savedAt: entry.ts };
  }

  load(agent: AgentRecord) {
    const saved = latestSessionCheckpoint(this.governance.ledger, agent.id);
    if (!saved)
      throw new ApiRefusal(404, 'no_checkpoint', `agent ${agent.id} has saved no session checkpoint`);
    return saved;
  }
}
