import type { LedgerEntry } from '../core/ledger-entries.js';
import type { Ledger } from './ledger.js';
import { dbOf } from './ledger.js';
import type { OutboxMessageInput } from './outbox.js';

export interface InboxDelivery {
  deliveryId: string;
  source: 'github' | 'slack';
  event: string;
  payload: unknown;
  /** The ledger entry that recorded the delivery. */
  seq: number;
  attempts: number;
}

interface InboxRow {
  delivery_id: string;
  source: 'github' | 'slack';
  event: string;
  payload: string;
  seq: number;
  attempts: number;
}

/**
 * Webhook deliveries, stored with their ledger entry before the sender gets its 2xx, then
 * processed after. The delivery id is the key: a redelivery is recognised and not processed twice.
 */
export class Inbox {
  constructor(
    private readonly ledger: Ledger,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Stores a delivery and its `delivery.received` entry atomically; null when the id was seen before. */
  accept(delivery: {
    source: 'github' | 'slack';
    deliveryId: string;
    event: string;
    action: string | null;
    repository: string | null;
    payloadText: string;
    /** Calls to make because the delivery arrived (e.g. a `queued` check run). */
    outbox?: OutboxMessageInput[];
  }): LedgerEntry | null {
    const db = dbOf(this.ledger);
    return this.ledger.atomically(() => {
      if (db.prepare('SELECT 1 FROM inbox WHERE delivery_id = ?').get(delivery.deliveryId)) return null;
      const entry = this.ledger.append(
        {
          type: 'delivery.received',
          agentId: null,
          actor: delivery.source,
          payload: {
            source: delivery.source,
            deliveryId: delivery.deliveryId,
            event: delivery.event,
            action: delivery.action,
            repository: delivery.repository,
          },
        },
        { outbox: delivery.outbox ?? [] },
      );
      const at = this.now().toISOString();
      db.prepare(
        `INSERT INTO inbox (delivery_id, source, event, payload, seq, next_attempt_at, received_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ).run(delivery.deliveryId, delivery.source, delivery.event, delivery.payloadText, entry.seq, at, at);
      return entry;
    });
  }

  /** Pending deliveries whose time has come, oldest first. */
  due(source: 'github' | 'slack', limit = 20): InboxDelivery[] {
    return dbOf(this.ledger)
      .prepare<[string, string, number], InboxRow>(
        `SELECT delivery_id, source, event, payload, seq, attempts FROM inbox
         WHERE status = 'pending' AND source = ? AND next_attempt_at <= ? ORDER BY seq LIMIT ?`,
      )
      .all(source, this.now().toISOString(), limit)
      .map((row) => ({
        deliveryId: row.delivery_id,
        source: row.source,
        event: row.event,
        payload: JSON.parse(row.payload),
        seq: row.seq,
        attempts: row.attempts,
      }));
  }

  markDone(deliveryId: string): void {
    dbOf(this.ledger)
      .prepare(
        "UPDATE inbox SET status = 'done', attempts = attempts + 1, processed_at = ?, last_error = NULL WHERE delivery_id = ?",
      )
      .run(this.now().toISOString(), deliveryId);
  }

  markRetry(deliveryId: string, error: string, nextAttemptAt: Date): void {
    dbOf(this.ledger)
      .prepare(
        'UPDATE inbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE delivery_id = ?',
      )
      .run(nextAttemptAt.toISOString(), error.slice(0, 500), deliveryId);
  }

  /** Gives up on a delivery that can never succeed (the PR is gone, a payload we cannot use). */
  markFailed(deliveryId: string, error: string): void {
    dbOf(this.ledger)
      .prepare(
        "UPDATE inbox SET status = 'failed', attempts = attempts + 1, processed_at = ?, last_error = ? WHERE delivery_id = ?",
      )
      .run(this.now().toISOString(), error.slice(0, 500), deliveryId);
  }

  pendingCount(source?: 'github' | 'slack'): number {
    const row = source
      ? dbOf(this.ledger)
          .prepare("SELECT COUNT(*) AS n FROM inbox WHERE status = 'pending' AND source = ?")
          .get(source)
      : dbOf(this.ledger).prepare("SELECT COUNT(*) AS n FROM inbox WHERE status = 'pending'").get();
    return (row as { n: number }).n;
  }
}
