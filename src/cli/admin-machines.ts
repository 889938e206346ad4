import type { Runtime } from '../app/open-runtime.js';
import type { PromotionStatus } from '../governance/promotion-status.js';
import { Promotions } from '../governance/promotions.js';
import { Revocations } from '../governance/revocations.js';
import { vaultSetTierMessage } from '../secrets/vault-deliverer.js';

export const actorOption = [
  '--actor <who>',
  'who is acting, for the ledger',
  process.env.USER ?? 'cli',
] as const;

/**
 * Admin actions write the ledger (and, for a revocation, the state store REDIS_URL names, so the
 * signal holds at once); the calls they cause (Vault, GitHub checks) wait in the outbox for the
 * running service to make.
 */
export function machines(rt: Runtime) {
  const vault = Boolean(rt.env.VAULT_ADDR);
  return {
    promotions: new Promotions(rt.governance, vault ? vaultSetTierMessage : null),
    revocations: new Revocations(rt.governance, { vault }),
  };
}

/** One promotion request in a line: what, who, and what it still needs. */
export function describe(p: PromotionStatus): string {
  const need = p.council ? `council quorum ${p.required}` : `${p.required} approval(s)`;
  const votes = p.approvals.length ? `; approved by ${p.approvals.join(', ')}` : '';
  return `${p.promotionId}: ${p.kind} of ${p.agentId} ${p.from} → ${p.to}, ${p.outcome}${p.outcome === 'pending' ? ` (needs ${need}${votes})` : votes}`;
}
