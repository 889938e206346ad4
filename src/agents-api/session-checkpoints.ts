import { createHash } from 'node:crypto';
import type { AgentRecord } from '../core/agent.js';
import type { Governance } from '../governance/governance.js';
import { agentsAsync } from '../ledger/queries/agents.js';
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
    const store = this.governance.store;
    const payload = {
      sha256: createHash('sha256').update(text).digest('hex'),
      bytes: Buffer.byteLength(text),
    };
    let status: string | null = 'active';
    const [entry] = await store.appendDecided(async (view) => {
      // Read as the entry extends the ledger: a revocation recorded since the token was checked
      // refuses the save.
      status = await agentsAsync.agentStatus(view.reader, agent.id);
      if (status !== 'active') return [];
      return [{ type: 'session.checkpoint_saved', agentId: agent.id, actor: agent.id, payload }];
    });
    if (!entry) throw notActive(agent.id, status ?? undefined, undefined);
    // The state itself is kept once its entry is committed (it needs the entry's seq and time, and a
    // decision must not write). Should this write fail, the agent is answered `unavailable` and its
    // previous checkpoint stays the one it resumes from; the entry records only the attempt's hash.
    await agentsAsync.saveSessionCheckpoint(store.reader, entry.seq, agent.id, text, entry.ts);
    return { saved: true, seq: entry.seq, savedAt: entry.ts };
  }

  async load(agent: AgentRecord) {
    const saved = await agentsAsync.latestSessionCheckpoint(this.governance.store.reader, agent.id);
    if (!saved)
      throw new ApiRefusal(404, 'no_checkpoint', `agent ${agent.id} has saved no session checkpoint`);
    return saved;
  }
}
