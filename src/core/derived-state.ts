/**
 * The state derived from the ledger, and the pure mapping from a ledger entry to the changes it
 * makes to that state. The state store applies these changes live; restore replays them after a
 * checkpoint. One mapping for both, so a rebuilt store equals the live one.
 */
import type { AgentRecord } from './agent.js';
import { STATE_CHANGERS } from './entry-state-changes.js';
import { LEDGER_ENTRY_TYPES, type LedgerEntry, type LedgerEntryType } from './ledger-entries.js';

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
 * The entry types `stateChangesFor` returns changes for: those with a changer in STATE_CHANGERS;
 * every other type changes nothing. Verify folds only these.
 */
export const STATE_CHANGING_TYPES: readonly LedgerEntryType[] = LEDGER_ENTRY_TYPES.filter(
  (type) => STATE_CHANGERS[type] !== null,
);

const changers = new Map(
  Object.entries(STATE_CHANGERS).filter(([, changer]) => changer !== null) as [
    string,
    (entry: LedgerEntry) => StateChange[],
  ][],
);

/** The changes one ledger entry makes to the derived state, by its type's changer. Pure. */
export function stateChangesFor(entry: LedgerEntry): StateChange[] {
  return changers.get(entry.type)?.(entry) ?? [];
}

/** Budget charges in time order, equal times by id. */
function byTimeThenId(a: BudgetCharge, b: BudgetCharge): number {
  return a.at - b.at || a.id.localeCompare(b.id);
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
        if (charges.some((c) => c.id === change.charge.id)) {
          charges.sort(byTimeThenId);
          break;
        }
        const last = charges.at(-1);
        charges.push(change.charge);
        // Charges come in time order as a rule: a sorted list with the newest at its end needs no
        // sort (verify folds every charge of a ledger, and each sort compared ids by locale).
        if (last && byTimeThenId(last, change.charge) > 0) charges.sort(byTimeThenId);
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
