import { createHash } from 'node:crypto';
import type { LedgerDb } from './open-ledger-db.js';

/**
 * Signed requests already accepted, kept in the ledger database until their signature stops being
 * acceptable anyway (Slack's: 5 minutes past its timestamp), so a request replayed after a restart
 * is still recognised. Only a hash of the signature is stored.
 */
export class SeenRequests {
  private readonly purge;
  private readonly claim;

  constructor(db: LedgerDb) {
    this.purge = db.prepare<[number]>('DELETE FROM seen_requests WHERE expires_at <= ?');
    // A row past its expiry is taken over, so a key is never refused for a stale row.
    this.claim = db.prepare<[string, number, number]>(
      `INSERT INTO seen_requests (key, expires_at) VALUES (?, ?)
       ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE seen_requests.expires_at <= ?`,
    );
  }

  /** Records `signature` as seen until `expiresAt` (unix seconds); false when it was seen before. */
  firstSight(signature: string, expiresAt: number, nowSeconds: number): boolean {
    this.purge.run(nowSeconds);
    const key = createHash('sha256').update(signature).digest('hex');
    return this.claim.run(key, expiresAt, nowSeconds).changes === 1;
  }
}
