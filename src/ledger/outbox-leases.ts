import type { OutboxClaimOptions } from './async-ledger.js';
import { dbOf, type Ledger } from './ledger.js';
import { type OutboxMessage, type OutboxRow, type OutboxTarget, rowToMessage } from './outbox.js';

/**
 * Outbox claims with a lease on the SQLite ledger: claim, complete and retry each run in one write
 * transaction, so two claimers (two processes on one file) never hold the same message.
 */
export class SqliteOutboxLeases {
  constructor(
    private readonly ledger: Ledger,
    private readonly now: () => Date,
  ) {}

  claim(target: OutboxTarget, options: OutboxClaimOptions): OutboxMessage[] {
    const db = dbOf(this.ledger);
    const now = this.now();
    const until = new Date(now.getTime() + options.leaseMs).toISOString();
    return this.ledger.atomically(() => {
      const rows = db
        .prepare<[OutboxTarget, string, string, number], OutboxRow>(
          `SELECT * FROM outbox WHERE id IN (
             SELECT MIN(id) FROM outbox WHERE status = 'pending' AND target = ? GROUP BY ordering_key
           ) AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until <= ?) ORDER BY id LIMIT ?`,
        )
        .all(target, now.toISOString(), now.toISOString(), options.limit ?? 50);
      const take = db.prepare('UPDATE outbox SET claimed_by = ?, lease_until = ? WHERE id = ?');
      for (const row of rows) take.run(options.claimer, until, row.id);
      return rows.map(rowToMessage);
    });
  }

  complete(id: number, claimer: string): boolean {
    return (
      dbOf(this.ledger)
        .prepare(
          `UPDATE outbox SET status = 'delivered', attempts = attempts + 1, delivered_at = ?, last_error = NULL,
             claimed_by = NULL, lease_until = NULL
           WHERE id = ? AND status = 'pending' AND claimed_by = ?`,
        )
        .run(this.now().toISOString(), id, claimer).changes === 1
    );
  }

  retry(id: number, claimer: string, error: string, nextAttemptAt: Date): boolean {
    return (
      dbOf(this.ledger)
        .prepare(
          `UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?,
             claimed_by = NULL, lease_until = NULL
           WHERE id = ? AND status = 'pending' AND claimed_by = ?`,
        )
        .run(nextAttemptAt.toISOString(), error.slice(0, 500), id, claimer).changes === 1
    );
  }

  forEntry(seq: number): OutboxMessage[] {
    return dbOf(this.ledger)
      .prepare<[number], OutboxRow>('SELECT * FROM outbox WHERE seq = ? ORDER BY id')
      .all(seq)
      .map(rowToMessage);
  }
}
