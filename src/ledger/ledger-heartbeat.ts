import { dbOf, type LedgerSource } from './ledger.js';

/**
 * The readiness probe's write: one row rewritten and committed. Throws what SQLite says when the
 * ledger cannot take a commit (disk full, I/O error, read-only file), which opening a transaction
 * and rolling it back would not show.
 */
export class LedgerHeartbeat {
  private readonly write;

  constructor(store: LedgerSource) {
    this.write = dbOf(store).prepare<[string]>(
      'INSERT INTO heartbeat (id, at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET at = excluded.at',
    );
  }

  beat(at: Date): void {
    this.write.run(at.toISOString());
  }
}
