import type { Statement } from 'better-sqlite3';
import { sqliteStatement } from './ledger-reader.js';
import type { LedgerDb } from './open-ledger-db.js';

export const OUTBOX_TARGETS = ['github', 'slack', 'vault'] as const;
export type OutboxTarget = (typeof OUTBOX_TARGETS)[number];

export interface OutboxMessageInput {
  target: OutboxTarget;
  /** What to do, e.g. `check_run.update`, `chat.postMessage`. The deliverer for the target knows it. */
  kind: string;
  /** The same key is enqueued once, however often the cause is replayed. */
  idempotencyKey: string;
  /** Messages with the same ordering key are delivered one after another, in the order enqueued. */
  orderingKey: string;
  payload: unknown;
  /** Not delivered before this moment (a digest waits to collect what follows). */
  notBefore?: Date;
}

export interface OutboxMessage extends OutboxMessageInput {
  id: number;
  seq: number;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  nextAttemptAt: string;
  lastError: string | null;
}

export interface OutboxRow {
  id: number;
  seq: number;
  target: OutboxTarget;
  kind: string;
  idempotency_key: string;
  ordering_key: string;
  payload: string;
  status: OutboxMessage['status'];
  attempts: number;
  next_attempt_at: string;
  last_error: string | null;
}

/**
 * Calls to GitHub, Slack and Vault waiting to be made. Rows are written in the transaction of the
 * ledger entry that caused them; deliverers claim due rows in order and mark them done, so a call
 * is never lost and, with the target's idempotency, never made twice.
 */
export class Outbox {
  private readonly insert: Statement;
  private readonly pending: Statement<[OutboxTarget, string, number], OutboxRow>;
  private readonly delivered: Statement;
  private readonly retry: Statement;

  constructor(
    private readonly db: LedgerDb,
    private readonly now: () => Date,
  ) {
    this.insert = db.prepare(
      `INSERT INTO outbox (seq, target, kind, idempotency_key, ordering_key, payload, next_attempt_at, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING`,
    );
    this.pending = db.prepare(
      `SELECT * FROM outbox WHERE id IN (
         SELECT MIN(id) FROM outbox WHERE status = 'pending' AND target = ? GROUP BY ordering_key
       ) AND next_attempt_at <= ? ORDER BY id LIMIT ?`,
    );
    this.delivered = db.prepare(
      `UPDATE outbox SET status = 'delivered', attempts = attempts + 1, delivered_at = ?, last_error = NULL
       WHERE id = ? AND status = 'pending'`,
    );
    this.retry = db.prepare(
      'UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE id = ?',
    );
  }

  /**
   * Called by the ledger inside its append transaction, or afterwards for a follow-up call whose
   * cause (`seq`) is already in the ledger.
   */
  enqueue(seq: number, message: OutboxMessageInput): void {
    const at = this.now().toISOString();
    this.insert.run(
      seq,
      message.target,
      message.kind,
      message.idempotencyKey,
      message.orderingKey,
      JSON.stringify(message.payload),
      message.notBefore?.toISOString() ?? at,
      at,
    );
  }

  /** Every pending message with an ordering key, due or not, oldest first: what a digest gathers. */
  pendingWith(target: OutboxTarget, orderingKey: string): OutboxMessage[] {
    return (
      sqliteStatement(
        this.db,
        "SELECT * FROM outbox WHERE status = 'pending' AND target = ? AND ordering_key = ? ORDER BY id",
      ).all(target, orderingKey) as OutboxRow[]
    ).map(rowToMessage);
  }

  /**
   * Pending messages for a target whose time has come, oldest first, skipping any message queued
   * behind an earlier one with the same ordering key that is still waiting: order holds per key.
   */
  dueFor(target: OutboxTarget, limit = 50): OutboxMessage[] {
    // The oldest pending message of each ordering key, if its time has come: one index walk per key,
    // however long a backlog waits behind it.
    return this.pending.all(target, this.now().toISOString(), limit).map(rowToMessage);
  }

  /**
   * Like `dueFor`, for the ordering keys that start with `prefix` only: a lane (the alerts) that a
   * deliverer drains before everything else, however long the rest of the queue is.
   */
  dueInLane(target: OutboxTarget, prefix: string, limit = 50): OutboxMessage[] {
    // A key range, not LIKE: it walks outbox_heads (target, status, ordering_key, id).
    const end = laneEnd(prefix);
    return (
      sqliteStatement(
        this.db,
        `SELECT * FROM outbox WHERE id IN (
             SELECT MIN(id) FROM outbox WHERE target = ? AND status = 'pending' AND ordering_key >= ? AND ordering_key < ?
             GROUP BY ordering_key
           ) AND next_attempt_at <= ? ORDER BY id LIMIT ?`,
      ).all(target, prefix, end, this.now().toISOString(), limit) as OutboxRow[]
    ).map(rowToMessage);
  }

  /** When a message with this ordering key was last delivered, or null. */
  lastDeliveredAt(target: OutboxTarget, orderingKey: string): string | null {
    const row = sqliteStatement(
      this.db,
      "SELECT MAX(delivered_at) AS at FROM outbox WHERE target = ? AND status = 'delivered' AND ordering_key = ?",
    ).get(target, orderingKey) as { at: string | null };
    return row.at;
  }

  /** When the next pending message for a target is due, or null when none is pending. */
  nextAttemptAt(target: OutboxTarget): string | null {
    const row = sqliteStatement(
      this.db,
      "SELECT MIN(next_attempt_at) AS at FROM outbox WHERE status = 'pending' AND target = ?",
    ).get(target) as { at: string | null };
    return row.at;
  }

  markDelivered(id: number): boolean {
    return this.delivered.run(this.now().toISOString(), id).changes === 1;
  }

  /** A message no retry can deliver (unreadable, or refused for good): kept with the reason, not retried. */
  markFailed(id: number, error: string): void {
    sqliteStatement(
      this.db,
      "UPDATE outbox SET status = 'failed', attempts = attempts + 1, last_error = ? WHERE id = ? AND status = 'pending'",
    ).run(error.slice(0, 500), id);
  }

  markRetry(id: number, error: string, nextAttemptAt: Date): void {
    this.retry.run(nextAttemptAt.toISOString(), error.slice(0, 500), id);
  }

  pendingCount(target?: OutboxTarget): number {
    const sql = target
      ? "SELECT COUNT(*) AS n FROM outbox WHERE status = 'pending' AND target = ?"
      : "SELECT COUNT(*) AS n FROM outbox WHERE status = 'pending'";
    const row = (
      target ? sqliteStatement(this.db, sql).get(target) : sqliteStatement(this.db, sql).get()
    ) as { n: number };
    return row.n;
  }
}

/** The end of the key range that starts with `prefix` (a range walks outbox_heads; LIKE would not). */
export function laneEnd(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}

export function rowToMessage(row: OutboxRow): OutboxMessage {
  return {
    id: row.id,
    seq: row.seq,
    target: row.target,
    kind: row.kind,
    idempotencyKey: row.idempotency_key,
    orderingKey: row.ordering_key,
    payload: parsePayload(row.payload),
    status: row.status,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    lastError: row.last_error,
  };
}

/** What a row that is not JSON reads as: the delivery loop refuses it with the reason, alone. */
export const UNREADABLE_PAYLOAD = Symbol('unreadable outbox payload');

function parsePayload(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return UNREADABLE_PAYLOAD;
  }
}
