import { stateChangesFor } from '../core/derived-state.js';
import { locksToRestore, restoredHolder } from '../core/execution-locks.js';
import type { LedgerEntry, LedgerEntryInput } from '../core/ledger-entries.js';
import { safetyStateChanges } from '../core/safety-action.js';
import type { AsyncAppendOptions, AsyncLedger, DecideEntries } from '../ledger/async-ledger.js';
import { locksAsync } from '../ledger/queries/locks.js';
import type { SafetyJournal } from '../ledger/safety-journal.js';
import type { AsyncCheckpoints } from '../ledger/store-checkpoints.js';
import type { Clock } from '../platform/clock.js';
import type { StateStore } from '../state/state-store.js';
import type { KnownAgents } from './known-agents.js';

export interface StateSyncDeps {
  store: AsyncLedger;
  state: StateStore;
  checkpoints: AsyncCheckpoints;
  journal: SafetyJournal | null;
  clock: Clock;
  known: KnownAgents;
}

/**
 * Keeps the state store (derived) in step with the ledger (the truth): every entry is applied
 * through the one mapping in `core/derived-state`, in order, once per process, whichever process
 * appended it; and the store is rebuilt from a checkpoint when it was lost.
 */
export class StateSync {
  /** Highest ledger sequence this process has applied to the state store. */
  private appliedSeq = 0;
  private readonly entryListeners: Array<(entry: LedgerEntry) => void> = [];
  private syncing: Promise<void> = Promise.resolve();

  constructor(private readonly deps: StateSyncDeps) {}

  /** Called once for every ledger entry this process applies (its own and other processes'). */
  onEntry(listener: (entry: LedgerEntry) => void): void {
    this.entryListeners.push(listener);
  }

  /**
   * Appends entries (atomically) and brings the state store up to date with them. Given a decision
   * instead, appends what it decides from the ledger as its entries will extend it (it may run more
   * than once: reads only, through its view).
   */
  async record(
    inputs: readonly LedgerEntryInput[] | DecideEntries,
    options: AsyncAppendOptions = {},
  ): Promise<LedgerEntry[]> {
    const { store } = this.deps;
    const entries =
      typeof inputs === 'function'
        ? await store.appendDecided(inputs, options)
        : await store.appendAll(inputs, options);
    await this.syncState();
    return entries;
  }

  /**
   * Applies ledger entries this process has not applied yet, in order. Other processes (the CLI,
   * other replicas) append to the same ledger; the server calls this periodically to follow them.
   */
  syncState(): Promise<void> {
    const run = this.syncing.then(async () => {
      for (;;) {
        const batch = await this.deps.store.entriesAfter(this.appliedSeq, 500);
        if (batch.length === 0) return;
        for (const entry of batch) {
          await this.deps.state.apply(stateChangesFor(entry));
          for (const listener of this.entryListeners) listener(entry);
          this.deps.known.applied(entry);
          this.appliedSeq = entry.seq;
        }
      }
    });
    // A failed sync (state store down) must not block the next one.
    this.syncing = run.catch(() => undefined);
    return run;
  }

  /**
   * Rebuilds the derived state in the store from the newest checkpoint plus the ledger after it.
   * Coordination keys (locks, heartbeats) are left as they are.
   */
  async restoreState(): Promise<{ checkpointId: string | null; headSeq: number }> {
    const { checkpoints, state: store } = this.deps;
    const latest = await checkpoints.latest();
    const { state, head } = await checkpoints.stateAtHead();
    await store.replaceDerived(state);
    await this.restoreLocks();
    await store.markRestored();
    this.deps.known.restored(Object.values(state.agents));
    this.appliedSeq = head.seq;
    await this.syncState();
    await this.applyQueuedSafetyActions();
    return { checkpointId: latest?.checkpointId ?? null, headSeq: this.appliedSeq };
  }

  /**
   * Revocations and pauses waiting in the safety journal hold in the state store too: a store
   * rebuilt from a ledger that does not have them yet must not quietly undo them.
   */
  async applyQueuedSafetyActions(): Promise<void> {
    for (const action of this.deps.journal?.pending() ?? [])
      await this.deps.state.apply(safetyStateChanges(action));
  }

  /**
   * Execution locks the ledger says are still held, put back with their fencing tokens: a store
   * that lost them (a restarted Redis) must not hand the same lock, or the same token, to another.
   * Each is held by the name its grant had (older records name only the agent: `<agent>:restored`).
   */
  private async restoreLocks(): Promise<void> {
    const history = await locksAsync.lockHistory(this.deps.store.reader);
    for (const lock of locksToRestore(history, this.deps.clock.ms())) {
      await this.deps.state.restoreLock(
        lock.lockKey,
        lock.holder ? (lock.grant ?? restoredHolder(lock.holder)) : 'none',
        lock.token,
        lock.ttlMs,
      );
    }
  }
}
