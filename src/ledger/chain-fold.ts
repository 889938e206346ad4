import {
  applyStateChanges,
  emptyDerivedState,
  STATE_CHANGING_TYPES,
  stateChangesFor,
} from '../core/derived-state.js';
import type { LedgerEntry } from '../core/ledger-entries.js';
import type { CheckpointCheck } from './checkpoint-check.js';
import type { PinnedKey } from './pinned-key.js';

const FOLDED = new Set<string>(STATE_CHANGING_TYPES);

/**
 * What verify learns from the chain besides its hashes and projections, the same on every engine:
 * the signing key pinned in it (once; the key given to the verifier, if any), and the derived
 * state folded up to each checkpoint's head, handed to `checkpoints` to compare.
 */
export class ChainFold {
  pinned: PinnedKey | null = null;
  private readonly state = emptyDerivedState();

  constructor(
    private readonly checkpoints: CheckpointCheck,
    private readonly expectedKey: { key: string; source: string } | undefined,
  ) {}

  /**
   * Takes the next entry (in sequence order) that pins a key or changes the state: why it is bad,
   * or null. Throws when its payload cannot be read.
   */
  take(entry: LedgerEntry): string | null {
    if (entry.type === 'ledger.key_pinned') {
      const publicKey = entry.payload.publicKey;
      const bad = pinProblem(publicKey, entry.seq, this.pinned, this.expectedKey);
      if (bad) return bad;
      this.pinned = { seq: entry.seq, publicKey };
    }
    if (this.checkpoints.wants()) {
      this.checkpoints.reached(entry.seq - 1, this.state);
      if (FOLDED.has(entry.type)) applyStateChanges(this.state, stateChangesFor(entry));
    }
    return null;
  }

  /** The chain ends at `upTo`: the checkpoints with a head there or before are compared. */
  end(upTo: number): void {
    this.checkpoints.reached(upTo, this.state);
  }
}

/** Why a `ledger.key_pinned` entry is bad: a second pin, or not the key the verifier was given. */
function pinProblem(
  publicKey: string,
  seq: number,
  pinned: PinnedKey | null,
  expectedKey: { key: string; source: string } | undefined,
): string | null {
  if (pinned) {
    return `entry ${seq} pins a second signing key (the first is pinned at entry ${pinned.seq}): the key was swapped`;
  }
  if (expectedKey && expectedKey.key !== publicKey)
    return `entry ${seq} pins a key other than the one in ${expectedKey.source}: the key was swapped`;
  return null;
}
