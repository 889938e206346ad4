import { createHash } from 'node:crypto';

/** The hash every chain starts from. */
export const GENESIS_HASH = '0'.repeat(64);

export interface HashedFields {
  seq: number;
  ts: string;
  type: string;
  agentId: string | null;
  actor: string;
  /** The payload exactly as stored (JSON text). */
  payload: string;
  prevHash: string;
}

/** sha256 over an unambiguous encoding of every stored field, chained through `prevHash`. */
export function entryHash(f: HashedFields): string {
  return createHash('sha256')
    .update(JSON.stringify([f.seq, f.ts, f.type, f.agentId, f.actor, f.payload, f.prevHash]))
    .digest('hex');
}
