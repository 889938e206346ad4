import type { TierId } from '../core/tiers.js';
import type { Governance } from '../governance/governance.js';
import { revocationEffect } from '../governance/revocation-effects.js';
import { type Deliverer, DeliveryLoop, type DeliveryOutcome } from '../integrations/delivery-loop.js';
import type { TypedOutboxMessage } from '../integrations/outbox-messages.js';
import type { OutboxMessageInput } from '../ledger/outbox.js';
import { revocationsAsync } from '../ledger/queries/revocations.js';
import type { Logger } from '../platform/logger.js';
import type { Pump } from '../platform/pump.js';
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
 * The Vault calls waiting in the outbox, in order per agent, retried while Vault is down or sealed.
 * Each batch of calls is recorded in the ledger; a revocation's Vault effect once it is read back
 * as done (and once as failed for now, when the first attempt fails).
 */
export class VaultDeliverer {
  readonly loop: DeliveryLoop;

  constructor(
    private readonly governance: Governance,
    private readonly secrets: VaultSecrets,
    logger: Logger,
    retry = { initialMs: 1000, maxMs: 60_000 },
  ) {
    const deliverer: Deliverer = {
      target: 'vault',
      retry,
      deliver: (message) => this.deliverOne(message),
      onFirstFailure: async (message, error) => {
        if (message.kind !== 'vault.revoke_agent') return;
        const { revocationId, agentId } = message.payload.revocation;
        const detail = `Vault unavailable: ${(error as Error).message}; retrying`;
        await governance.store.appendDecided(
          revocationEffect({ revocationId, agentId, effect: 'vault', ok: false, detail }),
        );
      },
    };
    this.loop = new DeliveryLoop(governance.store, deliverer, logger, {
      claimer: `${governance.claimer}:vault`,
    });
  }

  get pump(): Pump {
    return this.loop.pump;
  }

  async deliver(): Promise<void> {
    await this.loop.run();
  }

  private async deliverOne(message: TypedOutboxMessage): Promise<DeliveryOutcome | undefined> {
    const store = this.governance.store;
    if (message.kind === 'vault.revoke_agent') {
      const { agentId, revocation } = message.payload;
      const accessors = await revocationsAsync.vaultAccessorsOf(store.reader, agentId);
      const { calls, confirmed } = await this.secrets.revokeAgent(agentId, accessors);
      await store.append({
        type: 'vault.calls',
        agentId,
        actor: 'vault',
        payload: { purpose: revocation.revocationId, calls },
      });
      const { revocationId } = revocation;
      if (!confirmed) {
        const detail = 'secret-ids remain after destroy';
        await store.appendDecided(
          revocationEffect({ revocationId, agentId, effect: 'vault', ok: false, detail }),
        );
        throw new Error('secret-ids remain after destroy; retrying');
      }
      const detail = `${calls.length - 1} Vault call(s); no secret-id left`;
      return { effect: revocationEffect({ revocationId, agentId, effect: 'vault', ok: true, detail }) };
    }
    if (message.kind === 'vault.set_tier') {
      const { agentId, tier, promotionId } = message.payload;
      const calls = await this.secrets.setAgentTier(agentId, tier as TierId);
      await store.append({
        type: 'vault.calls',
        agentId,
        actor: 'vault',
        payload: { purpose: promotionId, calls },
      });
      return undefined;
    }
    throw Object.assign(new Error(`Vault does not deliver ${message.kind}`), { status: 400 });
  }
}
