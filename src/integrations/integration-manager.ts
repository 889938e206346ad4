import type { IntegrationEvent } from '../core/lifecycle.js';
import type { Ledger } from '../ledger/ledger.js';
import type { OutboxMessageInput } from '../ledger/outbox.js';

/**
 * A subscriber turns an integration event into the calls it wants made (a Slack message, a GitHub
 * check update). It does no I/O itself: the calls go into the outbox, tied to the ledger entry of
 * the event, and the subscriber's deliverer makes them with retry behind its breaker.
 */
export interface IntegrationSubscriber {
  name: string;
  events: readonly IntegrationEvent[];
  callsFor(event: IntegrationEvent, data: Record<string, unknown>, seq: number): OutboxMessageInput[];
  /** Called after calls were queued for it. */
  kick?(): void;
}

/** Routes each integration event to every subscriber of it. The one place events fan out. */
export class IntegrationManager {
  private readonly subscribers: IntegrationSubscriber[] = [];

  constructor(private readonly ledger: Ledger) {}

  subscribe(subscriber: IntegrationSubscriber): void {
    this.subscribers.push(subscriber);
  }

  /** Queues every subscriber's calls for an event already in the ledger (at `seq`). */
  async publish(event: IntegrationEvent, data: Record<string, unknown>, seq: number): Promise<number> {
    let queued = 0;
    for (const s of this.subscribers) {
      if (!s.events.includes(event)) continue;
      const calls = s.callsFor(event, data, seq);
      for (const call of calls) this.ledger.outbox.enqueue(seq, call);
      queued += calls.length;
      if (calls.length) s.kick?.();
    }
    return queued;
  }

  subscriberNames(): string[] {
    return this.subscribers.map((s) => s.name);
  }
}
