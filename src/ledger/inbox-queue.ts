import type { DueDelivery, Inbox, InboxDelivery } from './inbox.js';

/**
 * The stored deliveries waiting to be processed, as the worker that processes them sees them, on
 * either engine. On PostgreSQL, `dueHeads` claims what it returns for a lease under the queue's
 * claimer, so replicas sharing the inbox never process the same delivery at once, and a replica
 * that dies has its deliveries taken over once the lease runs out. On SQLite one process serves
 * the file (a second `agov serve` is refused), and the worker's own in-flight set is the claim.
 */
export interface InboxQueue {
  /** Pending deliveries whose time has come, oldest first, without their payloads. */
  dueHeads(source: 'github' | 'slack', limit: number): Promise<DueDelivery[]>;
  /** The PR a stored delivery's payload names (`owner/repo#number`, lower case), or null. */
  pullRequestOf(deliveryId: string): Promise<string | null>;
  /**
   * The delivery to process for `deliveryId` with its payload: the newest pending one of its work
   * group (the older ones marked done, coalesced into it), or null when it is no longer pending.
   */
  take(deliveryId: string): Promise<InboxDelivery | null>;
  markDone(deliveryId: string): Promise<void>;
  markRetry(deliveryId: string, error: string, nextAttemptAt: Date): Promise<void>;
  /** Gives up on a delivery that can never succeed (the PR is gone, a payload we cannot use). */
  markFailed(deliveryId: string, error: string): Promise<void>;
  /** Whether any delivery is due now. */
  anyDue(source: 'github' | 'slack'): Promise<boolean>;
  pendingCount(source?: 'github' | 'slack'): Promise<number>;
}

/** The queue over the SQLite inbox (the same `Inbox` the webhook receiver stores into: its work groups are in memory). */
export function sqliteInboxQueue(inbox: Inbox): InboxQueue {
  return {
    dueHeads: async (source, limit) => inbox.dueHeads(source, limit),
    pullRequestOf: async (id) => inbox.pullRequestOf(id),
    take: async (id) => inbox.pending(inbox.coalesce(id)),
    markDone: async (id) => inbox.markDone(id),
    markRetry: async (id, error, at) => inbox.markRetry(id, error, at),
    markFailed: async (id, error) => inbox.markFailed(id, error),
    anyDue: async (source) => inbox.dueHeads(source, 1).length > 0,
    pendingCount: async (source) => inbox.pendingCount(source),
  };
}
