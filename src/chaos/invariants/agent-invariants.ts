import { agentRoleName } from '../../secrets/tier-policies.js';
import type { InvariantInput, InvariantResult } from './invariant.js';

export function noPassAfterRevocation({ rows }: InvariantInput): InvariantResult {
  const revokedAt = new Map<string, number>();
  let passedAfter = 0;
  for (const r of rows) {
    if (r.type === 'agent.status_changed' && r.agentId) {
      const p = r.payload;
      if (p.to === 'revoked' || p.to === 'suspended') revokedAt.set(r.agentId, r.seq);
      else revokedAt.delete(r.agentId);
    }
    const since = r.agentId ? revokedAt.get(r.agentId) : undefined;
    if (since === undefined) continue;
    if (r.type === 'preflight.decided' && r.payload.decision === 'allow') passedAfter++;
    if (r.type === 'decision.recorded' && r.payload.outcome === 'allow') passedAfter++;
  }
  return {
    name: 'no revoked or suspended agent passed a gate or preflight',
    ok: passedAfter === 0,
    count: revokedAt.size,
    detail: passedAfter ? `${passedAfter} passed after revocation` : `${revokedAt.size} agent(s) stopped`,
  };
}

export function promotionsOnce({ rows }: InvariantInput): InvariantResult {
  const applied = new Map<string, number>();
  for (const r of rows.filter((x) => x.type === 'promotion.resolved')) {
    const p = r.payload;
    if (p.outcome === 'applied') applied.set(p.promotionId, (applied.get(p.promotionId) ?? 0) + 1);
  }
  const twice = [...applied.values()].filter((n) => n > 1).length;
  return {
    name: 'no promotion applied twice',
    ok: twice === 0,
    count: applied.size,
    detail: twice ? `${twice} applied more than once` : 'once each',
  };
}

/** A revocation is confirmed after recovery. */
export function revocationsConfirmed({ rows }: InvariantInput): InvariantResult {
  const requested = rows.filter((r) => r.type === 'revocation.requested').map((r) => r.payload.revocationId);
  const confirmed = new Set(
    rows.filter((r) => r.type === 'revocation.confirmed').map((r) => r.payload.revocationId),
  );
  const unconfirmed = requested.filter((id) => !confirmed.has(id));
  return {
    name: 'every revocation confirmed after recovery',
    ok: unconfirmed.length === 0,
    count: requested.length,
    detail: unconfirmed.length ? `${unconfirmed.join(', ')} not confirmed` : 'all confirmed',
  };
}

/** In Vault nothing of a revoked agent's is left live; null for a run without Vault. */
export function nothingLiveInVault({ rows, standIns, observed }: InvariantInput): InvariantResult | null {
  const { vault } = standIns;
  if (!vault) return null;
  const finalStatus = new Map<string, string>();
  for (const r of rows)
    if (r.type === 'agent.status_changed' && r.agentId) finalStatus.set(r.agentId, r.payload.to);
  const revoked = [...finalStatus].filter(([, s]) => s === 'revoked').map(([id]) => id);
  const live = revoked.flatMap((id) => [
    ...(observed.vaultTokens.get(id) ?? []).filter((a) => vault.tokens.has(a)).map((a) => `${id} token ${a}`),
    ...[...(vault.secretIds.get(agentRoleName(id)) ?? [])].map((a) => `${id} secret-id ${a}`),
  ]);
  return {
    name: 'no revoked agent keeps a Vault token or secret-id',
    ok: live.length === 0,
    count: revoked.length,
    detail: live.length ? live.slice(0, 5).join(', ') : 'none left',
  };
}
