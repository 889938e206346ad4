/**
 * One small function per entry type: the changes an entry of that type makes to the derived state.
 * Every type is listed, `null` for those that change nothing, so a new entry type cannot be added
 * without deciding what it changes.
 */
import type { StateChange } from './derived-state.js';
import type { LedgerEntry, LedgerEntryType } from './ledger-entries.js';

type EntryOf<T extends LedgerEntryType> = Extract<LedgerEntry, { type: T }>;
type StateChanger<T extends LedgerEntryType> = (entry: EntryOf<T>) => StateChange[];

export const STATE_CHANGERS: { [T in LedgerEntryType]: StateChanger<T> | null } = {
  'agent.registered': ({ agentId, ts, payload: p }) =>
    agentId
      ? [
          {
            kind: 'put_agent',
            agent: {
              id: agentId,
              name: p.name,
              owner: p.owner,
              tier: p.tier,
              status: 'active',
              identities: p.identities,
              tokenHash: p.tokenHash,
              registeredAt: ts,
              tierSince: ts,
            },
          },
        ]
      : [],
  'agent.token_rotated': ({ agentId, payload: p }) =>
    agentId ? [{ kind: 'patch_agent', agentId, patch: { tokenHash: p.tokenHash } }] : [],
  'agent.status_changed': statusChanged,
  'agent.tier_changed': ({ agentId, ts, payload: p }) =>
    agentId ? [{ kind: 'patch_agent', agentId, patch: { tier: p.to, tierSince: ts } }] : [],
  'violation.recorded': ({ agentId, seq, ts, payload: p }) =>
    agentId && p.budgetCharge > 0
      ? [
          {
            kind: 'charge_budget',
            agentId,
            charge: { id: `seq-${seq}`, amount: p.budgetCharge, at: Date.parse(ts) },
          },
        ]
      : [],
  // A request waits whether or not an agent is known.
  'approval.requested': ({ agentId, payload: p }) => [
    {
      kind: 'add_pending_approval',
      approval: {
        approvalId: p.approvalId,
        agentId,
        subject: p.subject,
        required: p.required,
        expiresAt: p.expiresAt,
      },
    },
  ],
  'approval.resolved': ({ payload: p }) => [{ kind: 'remove_pending_approval', approvalId: p.approvalId }],
  'integration.event': null,
  'checkpoint.created': null,
  'ledger.key_pinned': null,
  'delivery.received': null,
  'decision.recorded': null,
  'merge_group.checked': null,
  'deployment.decided': null,
  'deployment.vote': null,
  'approval.recorded': null,
  'preflight.decided': null,
  'execution.lock': null,
  'session.checkpoint_saved': null,
  'api.refused': null,
  'revocation.requested': null,
  'revocation.effect': null,
  'revocation.confirmed': null,
  'promotion.requested': null,
  'promotion.voted': null,
  'promotion.resolved': null,
  'vault.token_issued': null,
  'vault.calls': null,
  'approval.click': null,
  'check_run.button': null,
  'finding.raised': null,
  'finding.resolved': null,
  'council.membership': null,
  'pr.merged': null,
  'pr.bad_outcome': null,
};

/** A revocation raises the revoke signal; its undoing clears it; any move patches the status. */
function statusChanged({
  agentId,
  actor,
  seq,
  ts,
  payload: p,
}: EntryOf<'agent.status_changed'>): StateChange[] {
  if (!agentId) return [];
  const changes: StateChange[] = [{ kind: 'patch_agent', agentId, patch: { status: p.to } }];
  if (p.to === 'revoked') {
    changes.push({ kind: 'set_revoke_signal', signal: { agentId, reason: p.reason, actor, at: ts, seq } });
  } else if (p.from === 'revoked') {
    changes.push({ kind: 'clear_revoke_signal', agentId });
  }
  return changes;
}
