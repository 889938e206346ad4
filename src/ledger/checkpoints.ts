import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { checkpointId } from '../core/checkpoint-id.js';
import {
  applyStateChanges,
  type DerivedState,
  emptyDerivedState,
  stateChangesFor,
} from '../core/derived-state.js';
import { UserError } from '../platform/errors.js';
import { GENESIS_HASH } from './entry-hash.js';
import { iterateEntries } from './iterate-entries.js';
import type { Ledger } from './ledger.js';
import { dbOf } from './ledger.js';
import { findPinnedKey, type PinnedKey } from './pinned-key.js';
import { checkpointQueries } from './queries/checkpoints.js';
import { type SigningKey, signText, verifySignature } from './signing-key.js';

/** The part of a checkpoint that is signed and can be kept outside the host. */
export const signedHeadSchema = z.object({
  checkpointId: z.string(),
  createdAt: z.string(),
  headSeq: z.number().int().nonnegative(),
  headHash: z.string().regex(/^[0-9a-f]{64}$/),
  stateHash: z.string().regex(/^[0-9a-f]{64}$/),
  signature: z.string(),
  publicKey: z.string(),
});
export type SignedHead = z.infer<typeof signedHeadSchema>;

export interface Checkpoint extends SignedHead {
  state: DerivedState;
}

export interface CheckpointRow {
  id: string;
  created_at: string;
  head_seq: number;
  head_hash: string;
  state: string;
  state_hash: string;
  signature: string;
  public_key: string;
}

/** What a checkpoint's signature covers. */
export function signedText(h: Omit<SignedHead, 'signature' | 'publicKey'>): string {
  return JSON.stringify([h.checkpointId, h.createdAt, h.headSeq, h.headHash, h.stateHash]);
}

/**
 * Checks a head's signature against `publicKey`: a key the verifier trusts (pinned in the ledger
 * or given to it), never the key the head carries, which whoever forged the head chose.
 */
export function verifySignedHead(head: SignedHead, publicKey: string): boolean {
  return verifySignature(publicKey, signedText(head), head.signature);
}

/**
 * Checkpoints: the derived state folded from the ledger up to a head, stored in the ledger
 * database with the head signed. Restoring the state store starts from the newest one.
 */
export class Checkpoints {
  constructor(
    private readonly ledger: Ledger,
    private readonly key: SigningKey,
    private readonly now: () => Date = () => new Date(),
  ) {}

  private pinned: PinnedKey | null = null;

  /**
   * Folds the ledger from the newest checkpoint to the current head and stores the result. The
   * first checkpoint of a ledger first pins the signing key in the chain.
   */
  create(): Checkpoint {
    try {
      return this.createPinned();
    } catch (error) {
      // The pin may have been rolled back with the checkpoint.
      this.pinned = null;
      throw error;
    }
  }

  private createPinned(): Checkpoint {
    const db = dbOf(this.ledger);
    return db
      .transaction(() => {
        this.pinKey();
        const { state, head } = this.stateAtHead();
        const { checkpoint, stateText } = signedCheckpoint(state, head, this.key, this.now());
        db.prepare(INSERT_CHECKPOINT).run(...checkpointParams(checkpoint, stateText));
        return checkpoint;
      })
      .immediate();
  }

  /** The key pinned in this ledger, if a checkpoint was ever created. */
  pinnedKey(): PinnedKey | null {
    this.pinned ??= findPinnedKey(dbOf(this.ledger));
    return this.pinned;
  }

  /**
   * Pins this process's signing key in the chain unless one is pinned. A different key pinned
   * already is refused: checkpoints it signed would fail verification.
   */
  private pinKey(): void {
    const pinned = this.pinnedKey();
    if (pinned && pinned.publicKey !== this.key.publicKey) throw keyNotPinnedError(pinned.seq);
    if (pinned) return;
    const entry = this.ledger.append({
      type: 'ledger.key_pinned',
      agentId: null,
      actor: 'agov',
      payload: { publicKey: this.key.publicKey },
    });
    this.pinned = { seq: entry.seq, publicKey: this.key.publicKey };
  }

  /** The derived state at the current head: the newest checkpoint plus every entry after it. */
  stateAtHead(): { state: DerivedState; head: { seq: number; hash: string } } {
    const latest = this.latest();
    const state = latest ? structuredClone(latest.state) : emptyDerivedState();
    let head = latest ? { seq: latest.headSeq, hash: latest.headHash } : { seq: 0, hash: GENESIS_HASH };
    for (const entry of iterateEntries(dbOf(this.ledger), head.seq)) {
      applyStateChanges(state, stateChangesFor(entry));
      head = { seq: entry.seq, hash: entry.hash };
    }
    return { state, head };
  }

  /** Every checkpoint's signed head, newest first. */
  list(): SignedHead[] {
    return checkpointQueries.list.sync(this.ledger);
  }

  /** The checkpoint `id`; refused in one line when there is none. */
  get(id: string): Checkpoint {
    return checkpointQueries.byId.sync(this.ledger, id);
  }

  latest(): Checkpoint | null {
    return checkpointQueries.latest.sync(this.ledger);
  }
}

/** A checkpoint of `state` at `head`, signed: what is stored, and the state's text its hash covers. */
export function signedCheckpoint(
  state: DerivedState,
  head: { seq: number; hash: string },
  key: SigningKey,
  createdAt: Date,
): { checkpoint: Checkpoint; stateText: string } {
  const stateText = JSON.stringify(state);
  const unsigned = {
    checkpointId: checkpointId(createdAt, randomBytes(4).toString('hex')),
    createdAt: createdAt.toISOString(),
    headSeq: head.seq,
    headHash: head.hash,
    stateHash: createHash('sha256').update(stateText).digest('hex'),
  };
  const checkpoint: Checkpoint = {
    ...unsigned,
    signature: signText(key, signedText(unsigned)),
    publicKey: key.publicKey,
    state,
  };
  return { checkpoint, stateText };
}

/** The statement that stores a checkpoint (the same text on both engines), and its parameters. */
export const INSERT_CHECKPOINT = `INSERT INTO checkpoints (id, created_at, head_seq, head_hash, state, state_hash, signature, public_key)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?)`;

export function checkpointParams(
  c: Checkpoint,
  stateText: string,
): [string, string, number, string, string, string, string, string] {
  return [
    c.checkpointId,
    c.createdAt,
    c.headSeq,
    c.headHash,
    stateText,
    c.stateHash,
    c.signature,
    c.publicKey,
  ];
}

/** Refused: checkpoints signed with a key other than the pinned one would fail verification. */
export function keyNotPinnedError(pinnedAt: number): UserError {
  return new UserError(
    'signing_key_not_pinned',
    `the ledger signing key is not the key pinned in the ledger at entry ${pinnedAt}; checkpoints it signed would fail \`agov ledger verify\`. Use the original key (LEDGER_SIGNING_KEY or LEDGER_SIGNING_KEY_PATH)`,
  );
}

export function rowToCheckpoint(row: CheckpointRow): Checkpoint {
  return {
    checkpointId: row.id,
    createdAt: row.created_at,
    headSeq: row.head_seq,
    headHash: row.head_hash,
    stateHash: row.state_hash,
    signature: row.signature,
    publicKey: row.public_key,
    state: JSON.parse(row.state),
  };
}
