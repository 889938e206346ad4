import { integrationEventFor } from '../core/integration-events.js';
import type { LedgerEntry, LedgerEntryInput } from '../core/ledger-entries.js';
import type { IntegrationEvent } from '../core/lifecycle.js';
import type { FollowerWork } from '../ledger/async-ledger.js';
import type { LedgerReader } from '../ledger/ledger-reader.js';
import type { OutboxMessageInput } from '../ledger/outbox.js';

/**
 * A subscriber turns an integration event into the calls it wants made (a Slack message, a GitHub
 * check update). It does no I/O itself: it reads the ledger through the reader it is given (the
 * consequences follower's decision), and the calls go into the outbox, tied to the ledger entry of
 * the event, and the delivery loop makes them with retry behind the target's breaker. It may run
 * more than once for an entry (a decision made again): reads only, no writes.
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
    reader: LedgerReader,
  ): Promise<OutboxMessageInput[]>;
  /**
   * Calls an entry asks for beyond its integration event (a Slack card closed when its request is
   * over), and entries it appends (the requests it closes).
   */
  callsForEntry?(entry: LedgerEntry, reader: LedgerReader): Promise<FollowerWork>;
}

/** Routes each ledger entry's integration event to every subscriber of it. The one place events fan out. */
export class IntegrationManager {
  private readonly subscribers: IntegrationSubscriber[] = [];

  subscribe(subscriber: IntegrationSubscriber): void {
    this.subscribers.push(subscriber);
  }

  /**
   * Every subscriber's calls for an entry already in the ledger, keyed by the entry (so a replay
   * queues nothing twice), and the entries they append. Run by the consequences follower, in its
   * decision, which queues the calls against the entry.
   */
  async queueFor(entry: LedgerEntry, reader: LedgerReader): Promise<Required<FollowerWork>> {
    const e = integrationEventFor(entry);
    const entries: LedgerEntryInput[] = [];
    const calls: OutboxMessageInput[] = [];
    for (const s of this.subscribers) {
      if (e && s.events.includes(e.event))
        calls.push(...(await s.callsFor(e.event, e.data, entry.seq, new Date(entry.ts), reader)));
      const more = (await s.callsForEntry?.(entry, reader)) ?? {};
      entries.push(...(more.entries ?? []));
      calls.push(...(more.calls ?? []));
    }
    return { entries, calls };
  }

  subscriberNames(): string[] {
    return this.subscribers.map((s) => s.name);
  }
}
