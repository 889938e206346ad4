/**
 * What verify holds the chain against besides itself: the key checkpoints must be signed by, and
 * heads recorded elsewhere (each checkpoint's, and any the caller trusts).
 */
import type { TrustedKey } from './checkpoint-check.js';
import type { LedgerDb } from './open-ledger-db.js';
import type { PinnedKey } from './pinned-key.js';
import type { VerifyOptions } from './verify.js';

/** Checks a head someone recorded (seq, hash, who) against the chain; null when it holds. */
export type HeadCheck = (seq: number, hash: string, source: string) => { seq: number; reason: string } | null;

/**
 * A head recorded elsewhere must be in the chain, which ends at `lastSeq` (else its tail was cut
 * off), and hash as recorded (else history was rewritten).
 */
export function headCheck(db: LedgerDb, lastSeq: number): HeadCheck {
  const hashAt = db.prepare<[number], { hash: string }>('SELECT hash FROM ledger_entries WHERE seq = ?');
  return (seq, hash, source) => {
    if (seq > lastSeq) {
      return {
        seq: lastSeq + 1,
        reason: `the ledger ends at ${lastSeq} but ${source} recorded head ${seq}: the tail was cut off`,
      };
    }
    if (seq > 0 && hashAt.get(seq)?.hash !== hash)
      return {
        seq,
        reason: `entry ${seq} does not match the hash that ${source} recorded: history was rewritten`,
      };
    return null;
  };
}

/** The key checkpoints must be signed by: pinned in the chain, else given, else this host's. */
export function trustedKey(
  pinned: PinnedKey | null,
  options: VerifyOptions,
  notes: string[],
  haveCheckpoints: boolean,
): TrustedKey | null {
  if (pinned) return { publicKey: pinned.publicKey, name: `the key pinned at entry ${pinned.seq}` };
  if (options.publicKey) {
    if (haveCheckpoints) notes.push('no signing key is pinned in this ledger yet');
    return { publicKey: options.publicKey.key, name: `the key in ${options.publicKey.source}` };
  }
  if (!options.hostPublicKey) return null;
  if (haveCheckpoints) {
    notes.push(
      "no signing key is pinned in this ledger yet: checkpoints were checked against this host's signing key; the next checkpoint pins it",
    );
  }
  return { publicKey: options.hostPublicKey, name: "this host's signing key" };
}
