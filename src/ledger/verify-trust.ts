/**
 * What verify holds the chain against besides itself: the key checkpoints must be signed by, and
 * heads recorded elsewhere (each checkpoint's, and any the caller trusts).
 */
import type { CheckpointCheck, TrustedKey } from './checkpoint-check.js';
import type { PinnedKey } from './pinned-key.js';
import type { TrustedHead, VerifyOptions } from './verify-verdict.js';

/** Checks a head someone recorded (seq, hash, who) against the chain; null when it holds. */
export type HeadCheck = (seq: number, hash: string, source: string) => { seq: number; reason: string } | null;

/** The stored hash of entry `seq` of the ledger being verified (read in verify's snapshot). */
export type HashAt = (seq: number) => string | undefined;

/**
 * A head recorded elsewhere must be in the chain, which ends at `lastSeq` (else its tail was cut
 * off), and hash as recorded (else history was rewritten).
 */
export function headCheck(hashAt: HashAt, lastSeq: number): HeadCheck {
  return (seq, hash, source) => {
    if (seq > lastSeq) {
      return {
        seq: lastSeq + 1,
        reason: `the ledger ends at ${lastSeq} but ${source} recorded head ${seq}: the tail was cut off`,
      };
    }
    if (seq > 0 && hashAt(seq) !== hash)
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

/** A problem trust found: at an entry (`seq`), or in a checkpoint whose head is in the chain (`seq` null). */
export type TrustProblem =
  | { seq: number; reason: string }
  | { seq: null; checkpointId: string; reason: string };

/**
 * The first checkpoint (signed by `key`, its head in the chain, its state the chain's) or trusted
 * head that the chain does not bear out (`heads` checks a head against it); null when all do.
 */
export function trustProblem(
  checkpoints: CheckpointCheck,
  key: TrustedKey | null,
  trustedHeads: readonly TrustedHead[],
  heads: HeadCheck,
  notes: string[],
): TrustProblem | null {
  if (checkpoints.rows.length > 0) {
    const bad = key
      ? checkpoints.problem(key, heads)
      : {
          checkpointId: checkpoints.rows[0]!.id,
          seq: null,
          reason: 'no public key to check the checkpoints against: pass --public-key FILE',
        };
    if (bad) return bad.seq === null ? { ...bad, seq: null } : { seq: bad.seq, reason: bad.reason };
  } else {
    notes.push('no trusted head to compare the tail against (no checkpoint yet)');
  }
  for (const head of trustedHeads) {
    const bad = heads(head.seq, head.hash, head.source);
    if (bad) return bad;
  }
  return null;
}
