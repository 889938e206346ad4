import type { AgentRecord } from '../core/agent.js';
import type { LedgerEntry } from '../core/ledger-entries.js';
import type { OrgConfig } from '../core/org-config.js';
import { type Directory, directoryOf } from '../core/people.js';

/**
 * Every registered agent's id and GitHub logins, kept in memory as the state sync applies entries:
 * for the checks that must not wait on I/O (the webhook path) and for the rule that no agent ever
 * approves anything.
 */
export class KnownAgents {
  /** GitHub login (lower case) → agent id. */
  private readonly logins = new Map<string, string>();
  private readonly agentIds = new Set<string>();

  constructor(private readonly config: OrgConfig) {}

  /** Learns the agent an applied `agent.registered` entry names (other entries change nothing). */
  applied(entry: LedgerEntry): void {
    if (entry.type !== 'agent.registered' || !entry.agentId) return;
    this.agentIds.add(entry.agentId);
    for (const login of entry.payload.identities.githubLogins)
      this.logins.set(login.toLowerCase(), entry.agentId);
  }

  /** After the state store was rebuilt: the logins are those of the agents it now holds. */
  restored(agents: Iterable<AgentRecord>): void {
    this.logins.clear();
    for (const agent of agents) {
      this.agentIds.add(agent.id);
      for (const login of agent.identities.githubLogins) this.logins.set(login.toLowerCase(), agent.id);
    }
  }

  /** The agent a GitHub login belongs to, from memory: for the webhook path, which must not wait. */
  agentIdForLogin(login: string): string | null {
    return this.logins.get(login.toLowerCase()) ?? null;
  }

  /** Every registered agent's id and GitHub logins: none of them ever approves anything. */
  identities(): string[] {
    return [...this.logins.keys(), ...this.agentIds];
  }

  /** The directory of people, with every registered agent's logins and id marked as agents. */
  directory(): Directory {
    return directoryOf([...this.config.approvers, ...this.config.people], this.identities());
  }
}
