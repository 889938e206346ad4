/**
 * A safety action (a revocation or a pause) that took effect before the ledger could record it.
 * It is kept in the safety journal until its ledger entry commits; meanwhile its effect on the
 * derived state is applied again whenever the state is rebuilt from the ledger. Pure.
 */
import type { StateChange } from './derived-state.js';

export interface SafetyAction {
  /** Unique; carried by the ledger entry (`journalId`) so a replay appends it once. */
  id: string;
  kind: 'revoke' | 'pause';
  agentId: string;
  actor: string;
  reason: string;
  /** When it was asked for and took effect; the ledger entry carries it as `requestedAt`. */
  requestedAt: string;
  /** A revocation's id, given at once so the one the admin was told is the one recorded. */
  revocationId?: string;
}

/** The changes the action makes to the derived state: the same ones its ledger entry will make. */
export function safetyStateChanges(action: SafetyAction): StateChange[] {
  if (action.kind === 'pause') {
    return [{ kind: 'patch_agent', agentId: action.agentId, patch: { status: 'suspended' } }];
  }
  return [
    { kind: 'patch_agent', agentId: action.agentId, patch: { status: 'revoked' } },
    {
      kind: 'set_revoke_signal',
      // seq 0: no ledger entry yet. The entry's own signal replaces this one when it is applied.
      signal: {
        agentId: action.agentId,
        reason: action.reason,
        actor: action.actor,
        at: action.requestedAt,
        seq: 0,
      },
    },
  ];
}
