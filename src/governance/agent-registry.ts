import type { AgentIdentities, AgentRecord } from '../core/agent.js';
import { agentIdSchema } from '../core/agent.js';
import type { AgentStatus } from '../core/lifecycle.js';
import type { OrgConfig } from '../core/org-config.js';
import type { TierId } from '../core/tiers.js';
import type { AsyncLedger } from '../ledger/async-ledger.js';
import type { LedgerReader } from '../ledger/ledger-reader.js';
import { agentsAsync } from '../ledger/queries/agents.js';
import { UserError } from '../platform/errors.js';
import type { StateStore } from '../state/state-store.js';
import { hashAgentToken, newAgentToken } from './agent-token.js';
import type { StateSync } from './state-sync.js';

export interface RegisterAgentInput {
  id: string;
  name?: string | undefined;
  owner?: string | null | undefined;
  tier: TierId;
  identities?: Partial<AgentIdentities>;
}

export interface AgentRegistryDeps {
  store: AsyncLedger;
  state: StateStore;
  config: OrgConfig;
  sync: StateSync;
}

/** Which agents exist, and their tokens: registration (by an admin or the config) and rotation. */
export class AgentRegistry {
  constructor(private readonly deps: AgentRegistryDeps) {}

  async register(input: RegisterAgentInput, actor: string): Promise<{ agent: AgentRecord; token: string }> {
    const id = agentIdSchema.safeParse(input.id);
    if (!id.success)
      throw new UserError(
        'agent_id_invalid',
        `"${input.id}" is not a valid agent id: ${id.error.issues[0]!.message}`,
      );
    if (await this.isRegistered(input.id)) {
      throw new UserError(
        'agent_exists',
        `agent ${input.id} is already registered; see \`agov agents show ${input.id}\``,
      );
    }
    const token = newAgentToken(input.id);
    await this.deps.sync.record([
      {
        type: 'agent.registered',
        agentId: input.id,
        actor,
        payload: {
          name: input.name ?? input.id,
          owner: input.owner ?? null,
          tier: input.tier,
          identities: {
            githubLogins: input.identities?.githubLogins ?? [],
            trailers: input.identities?.trailers ?? [],
          },
          tokenHash: hashAgentToken(token),
        },
      },
    ]);
    const agent = await this.deps.state.getAgent(input.id);
    if (!agent) throw new Error(`agent ${input.id} was recorded but is missing from the state store`);
    return { agent, token };
  }

  async rotateToken(agentId: string, actor: string): Promise<string> {
    if (!(await this.isRegistered(agentId))) throw unknownAgent(agentId);
    const token = newAgentToken(agentId);
    await this.deps.sync.record([
      { type: 'agent.token_rotated', agentId, actor, payload: { tokenHash: hashAgentToken(token) } },
    ]);
    return token;
  }

  /** Registers the agents the organisation config declares and the ledger does not know yet. */
  async registerConfigured(): Promise<string[]> {
    const added: string[] = [];
    for (const a of this.deps.config.agents) {
      if (await this.isRegistered(a.id)) continue;
      await this.register(
        {
          id: a.id,
          name: a.name,
          owner: a.owner,
          tier: a.tier,
          identities: { githubLogins: a.github_logins, trailers: a.trailers },
        },
        'config',
      );
      added.push(a.id);
    }
    return added;
  }

  /**
   * The agent's status as the ledger records it (null for an unknown agent). Read through the view
   * of a decision (`store.appendDecided`), it is the status the decided entries extend: the
   * re-check that keeps an allow, a token or a promotion from landing after a revocation.
   */
  statusInLedger(
    agentId: string,
    reader: LedgerReader = this.deps.store.reader,
  ): Promise<AgentStatus | null> {
    return agentsAsync.agentStatus(reader, agentId);
  }

  /** From the ledger itself, so it holds even while the state store is down or behind. */
  async isRegistered(agentId: string): Promise<boolean> {
    return (await this.statusInLedger(agentId)) !== null;
  }
}

export function unknownAgent(agentId: string): UserError {
  return new UserError('agent_unknown', `no agent "${agentId}" is registered; see \`agov agents list\``);
}
