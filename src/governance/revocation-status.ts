import type { RevocationRecord } from '../ledger/queries/revocations.js';

export interface RevocationStatus {
  revocationId: string;
  reason: string;
  effects: Record<string, 'held' | 'failed' | 'pending'>;
  confirmed: boolean;
}

/** The newest revocation in an agent's revocation records (oldest first), with each effect's state. */
export function revocationStatus(records: readonly RevocationRecord[]): RevocationStatus | null {
  let current: RevocationStatus | null = null;
  for (const r of records) {
    if (r.type === 'revocation.requested') {
      current = {
        revocationId: r.revocationId,
        reason: r.reason,
        effects: Object.fromEntries(r.effects.map((e) => [e, 'pending'])),
        confirmed: false,
      };
    } else if (current && r.revocationId === current.revocationId) {
      if (r.type === 'revocation.effect') {
        // Once an effect held, a later failed retry does not undo it; a failure stays until it holds.
        if (current.effects[r.effect] !== 'held') current.effects[r.effect] = r.ok ? 'held' : 'failed';
      } else current.confirmed = true;
    }
  }
  return current;
}
