import { createHash } from 'node:crypto';
import type { Ledger } from './ledger.js';
import { dbOf } from './ledger.js';
import type { LedgerReader } from './ledger-reader.js';
import type { LedgerDb } from './open-ledger-db.js';

const LOOKUP = 'SELECT 1 AS seen FROM seen_requests WHERE key = ? AND expires_at > ?';
const PURGE = 'DELETE FROM seen_requests WHERE expires_at <= ?';
// A row past its expiry is taken over, so a key is never refused for a stale row. The primary key
// is the de-duplication: two replicas claiming the same key at once, one changes a row.
const CLAIM = `INSERT INTO seen_requests (key, expires_at) VALUES (?, ?)
  ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE seen_requests.expires_at <= ?`;

const keyOf = (signature: string) => createHash('sha256').update(signature).digest('hex');

/**
 * Signed requests already accepted, kept in the ledger database until their signature stops being
 * acceptable anyway (Slack's: 5 minutes past its timestamp), so a request replayed after a restart
 * is still recognised. Only a hash of the signature is stored. `AsyncSeenRequests` is the same on
 * either engine; this one is SQLite's, synchronous.
 */
export class SeenRequests {
  private readonly purge;
  private readonly claim;
  private readonly lookup;

  constructor(db: LedgerDb) {
    this.lookup = db.prepare<[string, number]>(LOOKUP);
    this.purge = db.prepare<[number]>(PURGE);
    this.claim = db.prepare<[string, number, number]>(CLAIM);
  }

  /** Whether `signature` was recorded and has not expired yet (nothing is written). */
  seen(signature: string, nowSeconds: number): boolean {
    return this.lookup.get(keyOf(signature), nowSeconds) !== undefined;
  }

  /** Records `signature` as seen until `expiresAt` (unix seconds); false when it was seen before. */
  firstSight(signature: string, expiresAt: number, nowSeconds: number): boolean {
    this.purge.run(nowSeconds);
    return this.claim.run(keyOf(signature), expiresAt, nowSeconds).changes === 1;
  }
}

/** The signed requests seen, kept in a ledger's database (callers outside the ledger never hold its handle). */
export function seenRequestsIn(ledger: Ledger): SeenRequests {
  return new SeenRequests(dbOf(ledger));
}

/** `SeenRequests` on either engine, through the ledger's reader (`store.reader`). */
export class AsyncSeenRequests {
  constructor(private readonly reader: LedgerReader) {}

  /** Whether `signature` was recorded and has not expired yet (nothing is written). */
  async seen(signature: string, nowSeconds: number): Promise<boolean> {
    return (await this.reader.get(LOOKUP, [keyOf(signature), nowSeconds])) !== undefined;
  }

  /**
   * Records `signature` as seen until `expiresAt` (unix seconds); false when it was seen before,
   * by this process or any other replica (asked at the same moment, exactly one gets true).
   */
  async firstSight(signature: string, expiresAt: number, nowSeconds: number): Promise<boolean> {
    await this.reader.run(PURGE, [nowSeconds]);
    const claimed = await this.reader.run(CLAIM, [keyOf(signature), expiresAt, nowSeconds]);
    return claimed.changes === 1;
  }
}

/** The signed requests seen, kept in the ledger's database on either engine. */
export function seenRequestsOf(store: { readonly reader: LedgerReader }): AsyncSeenRequests {
  return new AsyncSeenRequests(store.reader);
}
