import type { LedgerReader } from './ledger-reader.js';

const BEAT = 'INSERT INTO heartbeat (id, at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET at = excluded.at';

/**
 * The readiness probe's write, on either engine: one row rewritten and committed. Throws what the
 * database says when the ledger cannot take a commit (disk full, I/O error, read-only file), which
 * opening a transaction and rolling it back would not show.
 */
export class LedgerHeartbeat {
  constructor(private readonly store: { readonly reader: LedgerReader }) {}

  async beat(at: Date): Promise<void> {
    await this.store.reader.run(BEAT, [at.toISOString()]);
  }
}
