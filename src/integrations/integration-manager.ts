import { integrationEventFor } from '../core/integration-events.js';
import type { LedgerEntry } from '../core/ledger-entries.js';
import type { IntegrationEvent } from '../core/lifecycle.js';
import type { Ledger } from '../ledger/ledger.js';
import type { OutboxMessageInput } from '../ledger/outbox.js';

/**
 * A subscriber turns an integration event into the calls it wants made (a Slack message, a GitHub
 * check update). It does no I/O itself: the calls go into the outbox, tied to the ledger entry of
 * the event, and the delivery loop makes them with retry behind the target's breaker.
 */
export interface IntegrationSubscriber {
  name: string;
  events: readonly IntegrationEvent[];
  /** `at`: when the entry was recorded. */
  callsFor(
    event: IntegrationEvent,
    data: Record<string, unknown>,
    seq: number,
    at: Date,
  ): OutboxMessageInput[];
  /** Calls an entry asks for beyond its integration event (a Slack card closed when its request is over). */
  callsForEntry?(entry: LedgerEntry): OutboxMessageInput[];
  /** Called after calls were queued for it. */
  kick?(): void;
}

/** Routes each ledger entry's integration event to every subscriber of it. The one place events fan out. */
export class IntegrationManager {
  private readonly subscribers: IntegrationSubscriber[] = [];

  constructor(private readonly ledger: Ledger) {}

  subscribe(subscriber: IntegrationSubscriber): void {
    this.subscribers.push(subscriber);
  }

  /**
   * Queues every subscriber's calls for an entry already in the ledger, keyed by the entry (so a
   * replay queues nothing twice). Run by the consequences follower, inside its transaction.
   */
  queueFor(entry: LedgerEntry): number {
    const e = integrationEventFor(entry);
    let queued = 0;
    for (const s of this.subscribers) {
      const calls = [
        ...(e && s.events.includes(e.event)
          ? s.callsFor(e.event, e.data, entry.seq, new Date(entry.ts))
          : []),
        ...(s.callsForEntry?.(entry) ?? []),
      ];
      for (const call of calls) this.ledger.outbox.enqueue(entry.seq, call);
      queued += calls.length;
      if (calls.length) s.kick?.();
    }
    return queued;
  }

  subscriberNames(): string[] {
    return this.subscribers.map((s) => s.name);
  }
}
