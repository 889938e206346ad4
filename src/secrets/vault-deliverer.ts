import type { TierId } from '../core/tiers.js';
import type { Governance } from '../governance/governance.js';
import type { Revocations } from '../governance/revocations.js';
import type { OutboxMessage, OutboxMessageInput } from '../ledger/outbox.js';
import type { Logger } from '../platform/logger.js';
import { Pump } from '../platform/pump.js';
import { isTransient, retryAt } from '../platform/resilience.js';
import type { VaultSecrets } from './vault-secrets.js';

export function vaultSetTierMessage(agentId: string, tier: TierId, promotionId: string): OutboxMessageInput {
  return {
    target: 'vault',
    kind: 'vault.set_tier',
    idempotencyKey: `${promotionId}:vault`,
    orderingKey: `vault:${agentId}`,
    payload: { agentId, tier, promotionId },
  };
}

/**
 * The Vault part of a revocation: destroy the agent's secret-ids and revoke every token accessor the
 * ledger records for it, then read back. `attempt` tells apart a later call for the same revocation.
 */
export function vaultRevokeMessage(agentId: string, revocationId: string, attempt = ''): OutboxMessageInput {
  return {
    target: 'vault',
    kind: 'vault.revoke_agent',
    idempotencyKey: `${revocationId}:vault${attempt ? `:${attempt}` : ''}`,
    orderingKey: `vault:${agentId}`,
    payload: { agentId, revocation: { revocationId, agentId, effect: 'vault' } },
  };
}

/**
 * Makes the Vault calls waiting in the outbox, in order per agent, retrying while Vault is down or
 * sealed; records each batch of calls in the ledger, and a revocation's Vault effect once it is
 * read back as done.
 */
export class VaultDeliverer {
  readonly pump: Pump;

  constructor(
    private readonly governance: Governance,
    private readonly secrets: VaultSecrets,
    private readonly revocations: Revocations,
    private readonly logger: Logger,
    private readonly retry = { initialMs: 1000, maxMs: 60_000 },
  ) {
    this.pump = new Pump(
      () => this.deliver(),
      2000,
      (e) => logger.error({ err: e }, 'Vault deliverer failed; will retry'),
    );
  }

  async deliver(): Promise<void> {
    const outbox = this.governance.ledger.outbox;
    for (const message of outbox.dueFor('vault', 50)) {
      try {
        await this.deliverOne(message);
        outbox.markDelivered(message.id);
      } catch (error) {
        outbox.markRetry(
          message.id,
          (error as Error).message,
          retryAt(error, message.attempts + 1, Date.now(), this.retry),
        );
        const revocation = (message.payload as { revocation?: { revocationId: string; agentId: string } })
          .revocation;
        if (revocation && message.attempts === 0) {
          // Recorded once: the Vault part failed for now; it is retried until it holds.
          await this.revocations.effect(
            revocation.revocationId,
            revocation.agentId,
            'vault',
            false,
            `Vault unavailable: ${(error as Error).message}; retrying`,
          );
        }
        if (!isTransient(error))
          this.logger.error({ err: error, outboxId: message.id }, 'Vault refused a call');
      }
    }
  }

  private async deliverOne(message: OutboxMessage): Promise<void> {
    const ledger = this.governance.ledger;
    if (message.kind === 'vault.revoke_agent') {
      const p = message.payload as { agentId: string; revocation: { revocationId: string } };
      const accessors = (
        ledger.db
          .prepare(
            `SELECT json_extract(e.payload, '$.accessor') AS accessor FROM agent_actions a JOIN ledger_entries e ON e.seq = a.seq
             WHERE a.agent_id = ? AND a.type = 'vault.token_issued'`,
          )
          .all(p.agentId) as { accessor: string }[]
      ).map((r) => r.accessor);
      const { calls, confirmed } = await this.secrets.revokeAgent(p.agentId, accessors);
      ledger.append({
        type: 'vault.calls',
        agentId: p.agentId,
        actor: 'vault',
        payload: { purpose: p.revocation.revocationId, calls },
      });
      await this.revocations.effect(
        p.revocation.revocationId,
        p.agentId,
        'vault',
        confirmed,
        confirmed
          ? `${calls.length - 1} Vault call(s); no secret-id left`
          : 'secret-ids remain after destroy',
      );
      if (!confirmed) throw new Error('secret-ids remain after destroy; retrying');
    } else if (message.kind === 'vault.set_tier') {
      const p = message.payload as { agentId: string; tier: TierId; promotionId: string };
      const calls = await this.secrets.setAgentTier(p.agentId, p.tier);
      ledger.append({
        type: 'vault.calls',
        agentId: p.agentId,
        actor: 'vault',
        payload: { purpose: p.promotionId, calls },
      });
    } else {
      throw Object.assign(new Error(`unknown Vault call ${message.kind}`), { status: 400 });
    }
  }
}
