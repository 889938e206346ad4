import type { Statement } from 'better-sqlite3';
import type { LedgerEntry, LedgerEntryInput } from '../core/ledger-entries.js';
import type { Ledger } from './ledger.js';
import { dbOf } from './ledger.js';
import { sqliteStatement } from './ledger-reader.js';
import type { OutboxMessageInput } from './outbox.js';

/** A delivery to store: what the sender sent, as much of it as processing it needs. */
export interface IncomingDelivery {
  source: 'github' | 'slack';
  deliveryId: string;
  event: string;
  action: string | null;
  repository: string | null;
  payloadText: string;
  /** Deliveries of one work group waiting together are processed once (see `Inbox.coalesce`). */
  group?: string | null;
  /** Calls to make because the delivery arrived (e.g. a `queued` check run). */
  outbox?: OutboxMessageInput[];
}

/** The ledger entry of a delivery that arrived, as both ledger engines record it. */
export function deliveryReceivedEntry(
  d: Pick<IncomingDelivery, 'source' | 'deliveryId' | 'event' | 'action' | 'repository'>,
): LedgerEntryInput {
  return {
    type: 'delivery.received',
    agentId: null,
    actor: d.source,
    payload: {
      source: d.source,
      deliveryId: d.deliveryId,
      event: d.event,
      action: d.action,
      repository: d.repository,
    },
  };
}

interface QueuedDelivery {
  delivery: IncomingDelivery;
  resolve: (entry: LedgerEntry | null) => void;
  reject: (error: unknown) => void;
}

export interface InboxDelivery {
  deliveryId: string;
  source: 'github' | 'slack';
  event: string;
  payload: unknown;
  /** The ledger entry that recorded the delivery. */
  seq: number;
  attempts: number;
}

/** A due delivery without its payload. */
export interface DueDelivery {
  deliveryId: string;
  event: string;
  seq: number;
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
  private readonly seen: Statement<[string]>;
  private readonly insert: Statement;
  private readonly queued: QueuedDelivery[] = [];
  private readonly dueRows: Statement<[string, string, number], InboxRow>;
  private readonly done: Statement;
  private readonly heads: Statement<[string, string, number], DueDelivery>;
  private readonly pr: Statement<[string], { repository: unknown; pullRequest: unknown }>;
  private readonly one: Statement<[string], InboxRow>;
  private readonly coalesced: Statement;
  /** The pending deliveries of each work group, oldest first: those stored by this process. */
  private readonly groups = new Map<string, string[]>();
  private readonly groupOf = new Map<string, string>();

  constructor(
    private readonly ledger: Ledger,
    private readonly now: () => Date = () => new Date(),
  ) {
    const db = dbOf(ledger);
    this.seen = db.prepare('SELECT 1 FROM inbox WHERE delivery_id = ?');
    this.insert = db.prepare(
      `INSERT INTO inbox (delivery_id, source, event, payload, seq, next_attempt_at, received_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    this.dueRows = db.prepare(
      `SELECT delivery_id, source, event, payload, seq, attempts FROM inbox INDEXED BY inbox_due
       WHERE source = ? AND status = 'pending' AND next_attempt_at <= ? ORDER BY seq LIMIT ?`,
    );
    this.heads = db.prepare(
      `SELECT delivery_id AS deliveryId, event, seq FROM inbox INDEXED BY inbox_due
       WHERE source = ? AND status = 'pending' AND next_attempt_at <= ? ORDER BY seq LIMIT ?`,
    );
    this.pr = db.prepare(
      `SELECT json_extract(payload, '$.repository.full_name') AS repository,
              json_extract(payload, '$.pull_request.number') AS pullRequest
       FROM inbox WHERE delivery_id = ?`,
    );
    this.one = db.prepare(
      "SELECT delivery_id, source, event, payload, seq, attempts FROM inbox WHERE delivery_id = ? AND status = 'pending'",
    );
    this.coalesced = db.prepare(
      "UPDATE inbox SET status = 'done', processed_at = ?, last_error = ? WHERE delivery_id = ? AND status = 'pending'",
    );
    this.done = db.prepare(
      "UPDATE inbox SET status = 'done', attempts = attempts + 1, processed_at = ?, last_error = NULL WHERE delivery_id = ?",
    );
  }

  /** Stores a delivery and its `delivery.received` entry atomically; null when the id was seen before. */
  accept(delivery: IncomingDelivery): LedgerEntry | null {
    const entry = this.ledger.atomically(() => this.store(delivery));
    if (entry) this.join(delivery);
    return entry;
  }

  /**
   * Like `accept`, committed together with every other delivery accepted in the same turn of the
   * event loop (group commit: one transaction for many senders). Each delivery stays atomic on its
   * own: one that cannot be stored is refused alone. Resolves once it is committed.
   */
  acceptSoon(delivery: IncomingDelivery): Promise<LedgerEntry | null> {
    return new Promise((resolve, reject) => {
      this.queued.push({ delivery, resolve, reject });
      if (this.queued.length === 1) setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    const batch = this.queued.splice(0);
    const outcomes: ({ entry: LedgerEntry | null } | { error: unknown })[] = [];
    try {
      this.ledger.atomically(() => {
        for (const { delivery } of batch) {
          try {
            // Nested: a savepoint, so a delivery that fails leaves nothing behind and the rest commit.
            outcomes.push({ entry: this.ledger.atomically(() => this.store(delivery)) });
          } catch (error) {
            outcomes.push({ error });
          }
        }
      });
    } catch (error) {
      for (const q of batch) q.reject(error);
      return;
    }
    for (const [i, q] of batch.entries()) {
      const outcome = outcomes[i]!;
      if ('error' in outcome) q.reject(outcome.error);
      else {
        if (outcome.entry) this.join(q.delivery);
        q.resolve(outcome.entry);
      }
    }
  }

  /** Inside a write transaction: the delivery's entry and row, or null for an id seen before. */
  private store(delivery: IncomingDelivery): LedgerEntry | null {
    if (this.seen.get(delivery.deliveryId)) return null;
    const entry = this.ledger.append(deliveryReceivedEntry(delivery), { outbox: delivery.outbox ?? [] });
    const at = this.now().toISOString();
    this.insert.run(
      delivery.deliveryId,
      delivery.source,
      delivery.event,
      delivery.payloadText,
      entry.seq,
      at,
      at,
    );
    return entry;
  }

  /** A stored delivery joins its work group, once committed. */
  private join({ deliveryId, group }: IncomingDelivery): void {
    if (!group) return;
    const members = this.groups.get(group);
    if (members) members.push(deliveryId);
    else this.groups.set(group, [deliveryId]);
    this.groupOf.set(deliveryId, group);
  }

  private leave(deliveryId: string): void {
    const group = this.groupOf.get(deliveryId);
    if (!group) return;
    this.groupOf.delete(deliveryId);
    const members = this.groups.get(group)?.filter((id) => id !== deliveryId) ?? [];
    if (members.length > 0) this.groups.set(group, members);
    else this.groups.delete(group);
  }

  /**
   * The delivery to process in place of `deliveryId`: the newest pending one of its work group
   * (itself when it has none, or is the newest). The group's other pending deliveries are marked
   * done, coalesced into that one, in one transaction: the work they asked for is the same. Groups
   * are this process's: deliveries left pending by an earlier one are processed each on its own.
   */
  coalesce(deliveryId: string): string {
    const group = this.groupOf.get(deliveryId);
    const members = group ? (this.groups.get(group) ?? []) : [];
    const newest = members.at(-1);
    if (!group || !newest || members.length < 2) return deliveryId;
    const older = members.slice(0, -1);
    const at = this.now().toISOString();
    this.ledger.atomically(() => {
      for (const id of older) this.coalesced.run(at, `coalesced into ${newest}`, id);
    });
    for (const id of older) this.groupOf.delete(id);
    this.groups.set(group, [newest]);
    return newest;
  }

  /** Pending deliveries whose time has come, oldest first. */
  due(source: 'github' | 'slack', limit = 20): InboxDelivery[] {
    return this.dueRows.all(source, this.now().toISOString(), limit).map(toDelivery);
  }

  /** Like `due`, without the payloads: which deliveries come next. */
  dueHeads(source: 'github' | 'slack', limit = 20): DueDelivery[] {
    return this.heads.all(source, this.now().toISOString(), limit);
  }

  /** The PR a stored delivery's payload names (`repository.full_name#pull_request.number`), or null. */
  pullRequestOf(deliveryId: string): string | null {
    const row = this.pr.get(deliveryId);
    if (typeof row?.repository !== 'string' || typeof row.pullRequest !== 'number') return null;
    return `${row.repository.toLowerCase()}#${row.pullRequest}`;
  }

  /** A pending delivery with its payload; null once it is processed. */
  pending(deliveryId: string): InboxDelivery | null {
    const row = this.one.get(deliveryId);
    return row ? toDelivery(row) : null;
  }

  markDone(deliveryId: string): void {
    this.done.run(this.now().toISOString(), deliveryId);
    this.leave(deliveryId);
  }

  markRetry(deliveryId: string, error: string, nextAttemptAt: Date): void {
    sqliteStatement(
      this.ledger,
      'UPDATE inbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE delivery_id = ?',
    ).run(nextAttemptAt.toISOString(), error.slice(0, 500), deliveryId);
  }

  /** Gives up on a delivery that can never succeed (the PR is gone, a payload we cannot use). */
  markFailed(deliveryId: string, error: string): void {
    sqliteStatement(
      this.ledger,
      "UPDATE inbox SET status = 'failed', attempts = attempts + 1, processed_at = ?, last_error = ? WHERE delivery_id = ?",
    ).run(this.now().toISOString(), error.slice(0, 500), deliveryId);
    this.leave(deliveryId);
  }

  pendingCount(source?: 'github' | 'slack'): number {
    const row = source
      ? sqliteStatement(
          this.ledger,
          "SELECT COUNT(*) AS n FROM inbox WHERE status = 'pending' AND source = ?",
        ).get(source)
      : sqliteStatement(
          this.ledger,
          "SELECT COUNT(*) AS n FROM inbox WHERE source IN ('github', 'slack') AND status = 'pending'",
        ).get();
    return (row as { n: number }).n;
  }
}

function toDelivery(row: InboxRow): InboxDelivery {
  return {
    deliveryId: row.delivery_id,
    source: row.source,
    event: row.event,
    payload: JSON.parse(row.payload),
    seq: row.seq,
    attempts: row.attempts,
  };
}
