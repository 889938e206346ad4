import { createHash } from 'node:crypto';
import type { Ledger } from './ledger.js';
import { dbOf } from './ledger.js';
import type { LedgerDb } from './open-ledger-db.js';

/**
 * Signed requests already accepted, kept in the ledger database until their signature stops being
 * acceptable anyway (Slack's: 5 minutes past its timestamp), so a request replayed after a restart
 * is still recognised. Only a hash of the signature is stored.
 */
export class SeenRequests {
  private readonly purge;
  private readonly claim;
  private readonly lookup;

  constructor(db: LedgerDb) {
    this.lookup = db.prepare<[string, number]>(
      'SELECT 1 FROM seen_requests WHERE key = ? AND expires_at > ?',
    );
    this.purge = db.prepare<[number]>('DELETE FROM seen_requests WHERE expires_at <= ?');
    // A row past its expiry is taken over, so a key is never refused for a stale row.
    this.claim = db.prepare<[string, number, number]>(
      `INSERT INTO seen_requests (key, expires_at) VALUES (?, ?)
       ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE seen_requests.expires_at <= ?`,
    );
  }

  /** Whether `signature` was recorded and has not expired yet (nothing is written). */
  seen(signature: string, nowSeconds: number): boolean {
    const key = createHash('sha256').update(signature).digest('hex');
    return this.lookup.get(key, nowSeconds) !== undefined;
  }

  /** Records `signature` as seen until `expiresAt` (unix seconds); false when it was seen before. */
  firstSight(signature: string, expiresAt: number, nowSeconds: number): boolean {
    this.purge.run(nowSeconds);
    const key = createHash('sha256').update(signature).digest('hex');
    return this.claim.run(key, expiresAt, nowSeconds).changes === 1;
  }
}

/** The signed requests seen, kept in a ledger's database (callers outside the ledger never hold its handle). */
export function seenRequestsIn(ledger: Ledger): SeenRequests {
  return new SeenRequests(dbOf(ledger));
}
