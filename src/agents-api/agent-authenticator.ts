import type { AgentRecord } from '../core/agent.js';
import { tokenMatches } from '../governance/agent-token.js';
import type { Governance } from '../governance/governance.js';
import { agentsAsync } from '../ledger/queries/agents.js';
import { notActive } from './api-refusal.js';
import type { StateGuard } from './state-guard.js';

/** Who is calling: the agent a token belongs to, and whether the ledger says it may act. */
export class AgentAuthenticator {
  constructor(
    private readonly governance: Governance,
    private readonly guard: StateGuard,
  ) {}

  /**
   * The agent a token belongs to, or null. Tokens look like `agov_<id>_<secret>`; only hashes are
   * kept. Read from the ledger's projection, not the state store: an agent can still be answered
   * (with a fail-closed deny) while Redis is down.
   */
  async authenticate(token: string): Promise<AgentRecord | null> {
    const id = /^agov_([a-z0-9][a-z0-9-]*)_[A-Za-z0-9_-]{20,}$/.exec(token)?.[1];
    if (!id) return null;
    const found = await agentsAsync.agentCredentials(this.governance.store.reader, id);
    if (!found?.tokenHash || !tokenMatches(token, found.tokenHash)) return null;
    return {
      id,
      name: id,
      owner: null,
      tier: found.tier,
      status: found.status,
      identities: { githubLogins: [], trailers: [] },
      tokenHash: found.tokenHash,
      registeredAt: found.registeredAt,
      tierSince: found.tierSince,
    };
  }

  /**
   * Refuses an agent the ledger does not say is active (as read when its token was checked). Every
   * call but preflight, whose deny is a recorded answer, passes here first: a revoked token stops
   * working everywhere at once, not only where the state store is read.
   */
  async assertActive(agent: AgentRecord): Promise<void> {
    if (agent.status === 'active') return;
    const signal = await this.guard
      .run(() => this.governance.state.getRevokeSignal(agent.id))
      .catch(() => null);
    throw notActive(agent.id, signal ? 'revoked' : agent.status, signal?.reason);
  }
}
