import type { OutboxClaimOptions } from './async-ledger.js';
import { dbOf, type Ledger } from './ledger.js';
import { sqliteStatement } from './ledger-reader.js';
import { laneEnd, type OutboxMessage, type OutboxRow, type OutboxTarget, rowToMessage } from './outbox.js';

const HEADS = `SELECT MIN(id) FROM outbox WHERE status = 'pending' AND target = ?`;
const CLAIMABLE = `AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until <= ?) ORDER BY id LIMIT ?`;
const CLAIM_SQL = {
  all: `SELECT * FROM outbox WHERE id IN (${HEADS} GROUP BY ordering_key) ${CLAIMABLE}`,
  inside: `SELECT * FROM outbox WHERE id IN (${HEADS} AND ordering_key >= ? AND ordering_key < ? GROUP BY ordering_key) ${CLAIMABLE}`,
  outside: `SELECT * FROM outbox WHERE id IN (${HEADS} AND NOT (ordering_key >= ? AND ordering_key < ?) GROUP BY ordering_key) ${CLAIMABLE}`,
};

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
    const now = this.now().toISOString();
    const until = new Date(this.now().getTime() + options.leaseMs).toISOString();
    const { lane } = options;
    const sql = !lane ? CLAIM_SQL.all : lane.inside ? CLAIM_SQL.inside : CLAIM_SQL.outside;
    const params = [
      target,
      ...(lane ? [lane.prefix, laneEnd(lane.prefix)] : []),
      now,
      now,
      options.limit ?? 50,
    ];
    return this.ledger.atomically(() => {
      const rows = sqliteStatement(db, sql).all(...params) as OutboxRow[];
      const take = sqliteStatement(db, 'UPDATE outbox SET claimed_by = ?, lease_until = ? WHERE id = ?');
      for (const row of rows) take.run(options.claimer, until, row.id);
      return rows.map(rowToMessage);
    });
  }

  anyDue(target: OutboxTarget): boolean {
    const now = this.now().toISOString();
    return sqliteStatement(this.ledger, CLAIM_SQL.all).get(target, now, now, 1) !== undefined;
  }

  complete(id: number, claimer: string, also: readonly number[] = []): boolean {
    return this.ledger.atomically(() => {
      const done =
        sqliteStatement(
          this.ledger,
          `UPDATE outbox SET status = 'delivered', attempts = attempts + 1, delivered_at = ?, last_error = NULL,
               claimed_by = NULL, lease_until = NULL
             WHERE id = ? AND status = 'pending' AND claimed_by = ?`,
        ).run(this.now().toISOString(), id, claimer).changes === 1;
      if (done) this.markDelivered(also);
      return done;
    });
  }

  /** Marks messages delivered whoever holds them (they were: the caller made the call). */
  markDelivered(ids: readonly number[]): void {
    const mark = sqliteStatement(
      this.ledger,
      `UPDATE outbox SET status = 'delivered', attempts = attempts + 1, delivered_at = ?, last_error = NULL,
         claimed_by = NULL, lease_until = NULL
       WHERE id = ? AND status = 'pending'`,
    );
    const at = this.now().toISOString();
    for (const id of ids) mark.run(at, id);
  }

  release(claimer: string, ids?: readonly number[]): number {
    const db = dbOf(this.ledger);
    const free =
      'UPDATE outbox SET claimed_by = NULL, lease_until = NULL WHERE status = ? AND claimed_by = ?';
    if (!ids) return sqliteStatement(db, free).run('pending', claimer).changes;
    const one = sqliteStatement(db, `${free} AND id = ?`);
    return this.ledger.atomically(() =>
      ids.reduce((n, id) => n + one.run('pending', claimer, id).changes, 0),
    );
  }

  retry(id: number, claimer: string, error: string, nextAttemptAt: Date): boolean {
    return (
      sqliteStatement(
        this.ledger,
        `UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?,
             claimed_by = NULL, lease_until = NULL
           WHERE id = ? AND status = 'pending' AND claimed_by = ?`,
      ).run(nextAttemptAt.toISOString(), error.slice(0, 500), id, claimer).changes === 1
    );
  }

  fail(id: number, claimer: string, error: string): boolean {
    return (
      sqliteStatement(
        this.ledger,
        `UPDATE outbox SET status = 'failed', attempts = attempts + 1, last_error = ?,
             claimed_by = NULL, lease_until = NULL
           WHERE id = ? AND status = 'pending' AND claimed_by = ?`,
      ).run(error.slice(0, 500), id, claimer).changes === 1
    );
  }

  forEntry(seq: number): OutboxMessage[] {
    return (
      sqliteStatement(this.ledger, 'SELECT * FROM outbox WHERE seq = ? ORDER BY id').all(seq) as OutboxRow[]
    ).map(rowToMessage);
  }
}
