import type { LedgerEntry } from '../core/ledger-entries.js';
import type { Ledger } from './ledger.js';
import { dbOf, type LedgerSource } from './ledger.js';
import { sqliteStatement } from './ledger-reader.js';

/**
 * A ledger follower: reads the entries after its stored position and, in the same write
 * transaction, queues what they call for (outbox messages, follow-up entries) and advances its
 * position. A crash before the commit leaves both undone, so the next run does the work again; a
 * crash after leaves both done. Any process may run a follower (two at once serialise on the
 * write lock and the second finds nothing new): the process that records an entry need not be the
 * one that delivers its consequences.
 */
export class LedgerFollower {
  constructor(
    private readonly ledger: Ledger,
    readonly name: string,
    private readonly handle: (entry: LedgerEntry) => void,
  ) {}

  /** Handles up to `limit` entries after the stored position; returns how many it handled. */
  step(limit = 200): number {
    const db = dbOf(this.ledger);
    return this.ledger.atomically(() => {
      const entries = this.ledger.entriesAfter(followerPosition(db, this.name), limit);
      const last = entries.at(-1);
      if (!last) return 0;
      for (const entry of entries) this.handle(entry);
      sqliteStatement(
        db,
        'INSERT INTO follower_positions (name, seq) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET seq = excluded.seq',
      ).run(this.name, last.seq);
      return entries.length;
    });
  }

  /** Steps until the follower has caught up with the head. */
  catchUp(): number {
    let total = 0;
    for (let n = this.step(); n > 0; n = this.step()) total += n;
    return total;
  }
}

/** A follower's stored position, read from the database alone (0 before its first run). */
export function followerPosition(store: LedgerSource, name: string): number {
  const db = dbOf(store);
  const row = sqliteStatement(db, 'SELECT seq FROM follower_positions WHERE name = ?').get(name) as
    | { seq: number }
    | undefined;
  return row?.seq ?? 0;
}
