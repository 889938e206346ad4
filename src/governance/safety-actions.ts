import { randomUUID } from 'node:crypto';
import type { LedgerEntryInput } from '../core/ledger-entries.js';
import { type SafetyAction, safetyStateChanges } from '../core/safety-action.js';
import type { LedgerView } from '../ledger/async-ledger.js';
import type { OutboxMessageInput } from '../ledger/outbox.js';
import { agentsAsync } from '../ledger/queries/agents.js';
import { recordedInLedgerAsync } from '../ledger/safety-journal.js';
import { isUserError, UserError } from '../platform/errors.js';
import type { Logger } from '../platform/logger.js';
import type { Governance } from './governance.js';
import type { RevocationPlan, Revocations } from './revocations.js';

/** What a safety action appends (its entries and the calls they cause), and what it answers. */
export interface SafetyDecision<T> {
  entries: readonly LedgerEntryInput[];
  outbox?: readonly OutboxMessageInput[];
  result: T;
}

/**
 * Runs a safety action (revoke, pause): its effect in the state store at once, then what `decide`
 * decides from the ledger appended in one write transaction (`store.appendDecided`: it may decide
 * more than once, so it only reads). When the ledger cannot be written (a full disk, an I/O error, a
 * lock held too long), the action is queued in the safety journal, fsynced, and recorded later by
 * `replaySafetyJournal` with its original time. Returns the decision's result, or null when queued.
 * A refusal of the action itself (a `UserError`) is thrown as it is: nothing to queue.
 *
 * Permissive actions never come here: without their record they fail (principle 13).
 */
export async function takeSafetyAction<T>(
  g: Governance,
  action: SafetyAction,
  decide: (view: LedgerView) => Promise<SafetyDecision<T>>,
): Promise<T | null> {
  // Started first, awaited after the ledger write: a state store slow to fail (Redis reconnecting)
  // must not hold back the record.
  const applying = g.state.apply(safetyStateChanges(action)).then(
    () => true,
    () => false,
  );
  let result: T;
  try {
    let decided: T | undefined;
    await g.store.appendDecided(async (view) => {
      const { entries, outbox, result } = await decide(view);
      decided = result;
      return { entries, outbox: outbox ?? [] };
    });
    result = decided as T;
  } catch (error) {
    const applied = await applying;
    if (isUserError(error)) throw error;
    if (!g.journal) throw error;
    try {
      g.journal.queue(action);
    } catch (journalError) {
      throw new UserError(
        'safety_action_not_recorded',
        `the ledger cannot be written and neither can the safety journal (${(journalError as NodeJS.ErrnoException).code ?? 'error'}): ${
          applied
            ? `${action.agentId} is ${action.kind === 'pause' ? 'paused' : 'revoked'} in the state store only, until it is rebuilt; free the disk and ${action.kind} again`
            : `nothing took effect; free the disk and ${action.kind} again`
        }`,
        { cause: error },
      );
    }
    return null;
  }
  await applying;
  return result;
}

/**
 * Pauses (suspends) an active agent until it is resumed: at once in the state store, recorded in
 * the ledger or queued for it. Returns whether it was queued.
 */
export async function pauseAgent(
  g: Governance,
  agentId: string,
  actor: string,
  reason: string,
): Promise<{ queued: boolean }> {
  const action: SafetyAction = {
    id: randomUUID(),
    kind: 'pause',
    agentId,
    actor,
    reason,
    requestedAt: g.clock.now().toISOString(),
  };
  const recorded = await takeSafetyAction(g, action, async ({ reader }) => {
    const from = await g.statusInLedger(agentId, reader);
    if (from !== 'active')
      throw new UserError(
        'not_active',
        `${agentId} is ${from ?? 'unknown'}; only an active agent can be paused`,
      );
    const entries: LedgerEntryInput[] = [
      { type: 'agent.status_changed', agentId, actor, payload: { from: 'active', to: 'suspended', reason } },
    ];
    return { entries, result: true };
  });
  if (recorded) await g.syncState();
  return { queued: recorded === null };
}

/**
 * Appends every action the safety journal still holds, oldest first, each once: the check that its
 * `journalId` is not in the ledger yet and the append are one write transaction, and `done` is
 * journalled only after it commits. Stops at the first that still cannot be written; those left
 * are applied to the state store again (a store rebuilt meanwhile would have lost them). Returns
 * how many were recorded. Called on start and on every upkeep tick.
 */
export async function replaySafetyJournal(
  g: Governance,
  revocations: Revocations,
  logger: Logger,
): Promise<number> {
  const journal = g.journal;
  if (!journal) return 0;
  let recorded = 0;
  for (const action of journal.pending()) {
    let plan: RevocationPlan | null = null;
    try {
      await g.store.appendDecided(async (view) => {
        plan = null;
        if (await recordedInLedgerAsync(view.reader, action.agentId, action.id)) return [];
        if (action.kind === 'revoke') {
          const decided = await revocations.decideQueued(view, action);
          plan = decided.result;
          return { entries: decided.entries, outbox: decided.outbox ?? [] };
        }
        if ((await agentsAsync.agentStatus(view.reader, action.agentId)) !== 'active') return [];
        const paused: LedgerEntryInput = {
          type: 'agent.status_changed',
          agentId: action.agentId,
          actor: action.actor,
          payload: {
            from: 'active',
            to: 'suspended',
            reason: action.reason,
            requestedAt: action.requestedAt,
            journalId: action.id,
          },
        };
        return [paused];
      });
    } catch (error) {
      logger.warn(
        { err: error, agent: action.agentId, action: action.kind },
        'a queued safety action still cannot be written to the ledger; will retry',
      );
      break;
    }
    journal.markDone(action.id);
    recorded++;
    logger.info(
      { agent: action.agentId, action: action.kind, requestedAt: action.requestedAt },
      `queued ${action.kind} of ${action.agentId} recorded in the ledger`,
    );
    const done = plan as RevocationPlan | null;
    if (done) await revocations.complete(done);
  }
  await g.syncState();
  await g.sync.applyQueuedSafetyActions();
  return recorded;
}
