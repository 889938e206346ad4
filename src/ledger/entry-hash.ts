import { hash } from 'node:crypto';

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
  return entryHashOf(f.seq, f.ts, f.type, f.agentId, f.actor, f.payload, f.prevHash);
}

/**
 * The same hash from the stored columns in order. Verify calls it once per entry: the one-shot
 * `hash` skips the Hash object `createHash` builds for each call.
 */
export function entryHashOf(
  seq: number,
  ts: string,
  type: string,
  agentId: string | null,
  actor: string,
  payload: string,
  prevHash: string,
): string {
  return hash('sha256', JSON.stringify([seq, ts, type, agentId, actor, payload, prevHash]));
}
