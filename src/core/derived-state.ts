/**
 * The state derived from the ledger, and the pure mapping from a ledger entry to the changes it
 * makes to that state. The state store applies these changes live; restore replays them after a
 * checkpoint. One mapping for both, so a rebuilt store equals the live one.
 */
import type { AgentRecord } from './agent.js';
import type { LedgerEntry } from './ledger-entries.js';

export interface RevokeSignal {
  agentId: string;
  reason: string;
  actor: string;
  at: string;
  /** Ledger sequence of the entry that revoked the agent. */
  seq: number;
}

export interface BudgetCharge {
  /** Unique per charge; the ledger sequence for charges that come from the ledger. */
  id: string;
  amount: number;
  /** Milliseconds since the epoch. */
  at: number;
}

export interface PendingApproval {
  approvalId: string;
  agentId: string | null;
  subject: string;
  required: number;
  expiresAt: string;
}

export interface DerivedState {
  agents: Record<string, AgentRecord>;
  revocations: Record<string, RevokeSignal>;
  budgets: Record<string, BudgetCharge[]>;
  pendingApprovals: Record<string, PendingApproval>;
}

export type StateChange =
  | { kind: 'put_agent'; agent: AgentRecord }
  | {
      kind: 'patch_agent';
      agentId: string;
      patch: Partial<Pick<AgentRecord, 'status' | 'tier' | 'tierSince' | 'tokenHash'>>;
    }
  | { kind: 'set_revoke_signal'; signal: RevokeSignal }
  | { kind: 'clear_revoke_signal'; agentId: string }
  | { kind: 'charge_budget'; agentId: string; charge: BudgetCharge }
  | { kind: 'add_pending_approval'; approval: PendingApproval }
  | { kind: 'remove_pending_approval'; approvalId: string };

export function emptyDerivedState(): DerivedState {
  return { agents: {}, revocations: {}, budgets: {}, pendingApprovals: {} };
}

/**
 * The entry types `stateChangesFor` returns changes for; every other type changes nothing. Verify
 * folds only these. A type missing here would make verify report checkpoints as differing from the
 * chain, never the reverse.
 */
export const STATE_CHANGING_TYPES = [
  'agent.registered',
  'agent.token_rotated',
  'agent.status_changed',
  'agent.tier_changed',
  'violation.recorded',
  'approval.requested',
  'approval.resolved',
] as const;

/** The changes one ledger entry makes to the derived state. Pure. */
export function stateChangesFor(entry: LedgerEntry): StateChange[] {
  const agentId = entry.agentId;
  switch (entry.type) {
    case 'agent.registered': {
      if (!agentId) return [];
      const p = entry.payload;
      return [
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
            registeredAt: entry.ts,
            tierSince: entry.ts,
          },
        },
      ];
    }
    case 'agent.token_rotated':
      return agentId ? [{ kind: 'patch_agent', agentId, patch: { tokenHash: entry.payload.tokenHash } }] : [];
    case 'agent.status_changed': {
      if (!agentId) return [];
      const changes: StateChange[] = [{ kind: 'patch_agent', agentId, patch: { status: entry.payload.to } }];
      if (entry.payload.to === 'revoked') {
        changes.push({
          kind: 'set_revoke_signal',
          signal: { agentId, reason: entry.payload.reason, actor: entry.actor, at: entry.ts, seq: entry.seq },
        });
      } else if (entry.payload.from === 'revoked') {
        changes.push({ kind: 'clear_revoke_signal', agentId });
      }
      return changes;
    }
    case 'agent.tier_changed':
      return agentId
        ? [{ kind: 'patch_agent', agentId, patch: { tier: entry.payload.to, tierSince: entry.ts } }]
        : [];
    case 'violation.recorded':
      return agentId && entry.payload.budgetCharge > 0
        ? [
            {
              kind: 'charge_budget',
              agentId,
              charge: {
                id: `seq-${entry.seq}`,
                amount: entry.payload.budgetCharge,
                at: Date.parse(entry.ts),
              },
            },
          ]
        : [];
    case 'approval.requested':
      return [
        {
          kind: 'add_pending_approval',
          approval: {
            approvalId: entry.payload.approvalId,
            agentId,
            subject: entry.payload.subject,
            required: entry.payload.required,
            expiresAt: entry.payload.expiresAt,
          },
        },
      ];
    case 'approval.resolved':
      return [{ kind: 'remove_pending_approval', approvalId: entry.payload.approvalId }];
    case 'integration.event':
    case 'checkpoint.created':
    case 'ledger.key_pinned':
    case 'delivery.received':
    case 'decision.recorded':
    case 'merge_group.checked':
    case 'deployment.decided':
    case 'approval.recorded':
    case 'pr.merged':
    case 'pr.bad_outcome':
    case 'council.membership':
    case 'preflight.decided':
    case 'execution.lock':
    case 'session.checkpoint_saved':
    case 'api.refused':
    case 'revocation.requested':
    case 'revocation.effect':
    case 'revocation.confirmed':
    case 'promotion.requested':
    case 'promotion.voted':
    case 'promotion.resolved':
    case 'vault.token_issued':
    case 'vault.calls':
    case 'approval.click':
    case 'finding.raised':
    case 'finding.resolved':
      return [];
  }
}

/** Applies changes to a plain derived state, in place. The memory store and tests use it. */
export function applyStateChanges(state: DerivedState, changes: readonly StateChange[]): DerivedState {
  for (const change of changes) {
    switch (change.kind) {
      case 'put_agent':
        state.agents[change.agent.id] = change.agent;
        break;
      case 'patch_agent': {
        const agent = state.agents[change.agentId];
        if (agent) state.agents[change.agentId] = { ...agent, ...change.patch };
        break;
      }
      case 'set_revoke_signal':
        state.revocations[change.signal.agentId] = change.signal;
        break;
      case 'clear_revoke_signal':
        delete state.revocations[change.agentId];
        break;
      case 'charge_budget': {
        state.budgets[change.agentId] ??= [];
        const charges = state.budgets[change.agentId]!;
        if (!charges.some((c) => c.id === change.charge.id)) charges.push(change.charge);
        charges.sort((a, b) => a.at - b.at || a.id.localeCompare(b.id));
        break;
      }
      case 'add_pending_approval':
        state.pendingApprovals[change.approval.approvalId] = change.approval;
        break;
      case 'remove_pending_approval':
        delete state.pendingApprovals[change.approvalId];
        break;
    }
  }
  return state;
}
