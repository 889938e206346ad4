import type { AgentRecord } from '../core/agent.js';
import type { Governance } from '../governance/governance.js';
import { agentStatus, latestRevocationId } from '../ledger/queries/agents.js';
import type { Logger } from '../platform/logger.js';
import { vaultRevokeMessage } from '../secrets/vault-deliverer.js';
import type { VaultSecrets } from '../secrets/vault-secrets.js';
import { ApiRefusal } from './api-refusal.js';
import type { StateGuard } from './state-guard.js';

/** Short-lived Vault tokens for agents, each recorded by its accessor so a revocation can revoke it. */
export class VaultTokens {
  constructor(
    private readonly governance: Governance,
    private readonly guard: StateGuard,
    private readonly secrets: VaultSecrets | null,
    private readonly logger: Logger,
  ) {}

  /**
   * A short-lived Vault token for the agent, obtained with its AppRole by the service, which records
   * the token's accessor: that is how a revocation can revoke it later.
   */
  async issue(agent: AgentRecord) {
    const secrets = this.secrets;
    if (!secrets) throw new ApiRefusal(404, 'vault_off', 'Vault is not configured on this service');
    await this.guard.requireActive(agent);
    const issued = await secrets.issueToken(agent.id);
    // Recorded with the agent's status read in the same transaction: a revocation that landed while
    // the token was being issued already ran its Vault part without this accessor.
    let status = 'active';
    const [entry] = await this.governance.ledger.appendSoon(() => {
      status = agentStatus(this.governance.ledger, agent.id) ?? 'unknown';
      return [
        {
          type: 'vault.token_issued',
          agentId: agent.id,
          actor: agent.id,
          payload: { accessor: issued.accessor, ttlSeconds: issued.ttlSeconds },
        },
      ];
    });
    if (status !== 'active') {
      await secrets
        .revokeAccessor(issued.accessor)
        .catch((error: unknown) => this.revokeLater(agent, issued.accessor, entry!.seq, error));
      throw new ApiRefusal(403, 'agent_not_active', `agent ${agent.id} is ${status}: no Vault token`);
    }
    return issued;
  }

  /**
   * Vault went away in between: the accessor is recorded; a Vault revocation of the agent,
   * retried until it holds, revokes every recorded accessor.
   */
  private revokeLater(agent: AgentRecord, accessor: string, seq: number, error: unknown): void {
    this.logger.warn({ agent: agent.id, err: error }, 'token issued during a revocation; revoking it later');
    const revocationId = latestRevocationId(this.governance.ledger, agent.id);
    if (revocationId)
      this.governance.ledger.outbox.enqueue(seq, vaultRevokeMessage(agent.id, revocationId, accessor));
  }
}
