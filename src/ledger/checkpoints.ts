import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { checkpointId } from '../core/checkpoint-id.js';
import {
  applyStateChanges,
  type DerivedState,
  emptyDerivedState,
  stateChangesFor,
} from '../core/derived-state.js';
import { UserError } from '../errors.js';
import { GENESIS_HASH } from './entry-hash.js';
import type { Ledger } from './ledger.js';
import { type SigningKey, signText, verifySignature } from './signing-key.js';
import { iterateEntries } from './verify.js';

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

interface CheckpointRow {
  id: string;
  created_at: string;
  head_seq: number;
  head_hash: string;
  state: string;
  state_hash: string;
  signature: string;
  public_key: string;
}

function signedText(h: Omit<SignedHead, 'signature' | 'publicKey'>): string {
  return JSON.stringify([h.checkpointId, h.createdAt, h.headSeq, h.headHash, h.stateHash]);
}

export function verifySignedHead(head: SignedHead): boolean {
  return verifySignature(head.publicKey, signedText(head), head.signature);
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

  /** Folds the ledger from the newest checkpoint to the current head and stores the result. */
  create(): Checkpoint {
    const db = this.ledger.db;
    return db
      .transaction(() => {
        const { state, head } = this.stateAtHead();
        const createdAt = this.now();
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
          signature: signText(this.key, signedText(unsigned)),
          publicKey: this.key.publicKey,
          state,
        };
        db.prepare(
          `INSERT INTO checkpoints (id, created_at, head_seq, head_hash, state, state_hash, signature, public_key)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        ).run(
          checkpoint.checkpointId,
          checkpoint.createdAt,
          checkpoint.headSeq,
          checkpoint.headHash,
          stateText,
          checkpoint.stateHash,
          checkpoint.signature,
          checkpoint.publicKey,
        );
        return checkpoint;
      })
      .immediate();
  }

  /** The derived state at the current head: the newest checkpoint plus every entry after it. */
  stateAtHead(): { state: DerivedState; head: { seq: number; hash: string } } {
    const latest = this.latest();
    const state = latest ? structuredClone(latest.state) : emptyDerivedState();
    let head = latest ? { seq: latest.headSeq, hash: latest.headHash } : { seq: 0, hash: GENESIS_HASH };
    for (const entry of iterateEntries(this.ledger.db, head.seq)) {
      applyStateChanges(state, stateChangesFor(entry));
      head = { seq: entry.seq, hash: entry.hash };
    }
    return { state, head };
  }

  list(): SignedHead[] {
    return this.ledger.db
      .prepare<[], CheckpointRow>('SELECT * FROM checkpoints ORDER BY created_at DESC, id DESC')
      .all()
      .map((row) => rowToCheckpoint(row))
      .map(({ state: _state, ...head }) => head);
  }

  get(id: string): Checkpoint {
    const row = this.ledger.db
      .prepare<[string], CheckpointRow>('SELECT * FROM checkpoints WHERE id = ?')
      .get(id);
    if (!row)
      throw new UserError('checkpoint_not_found', `no checkpoint ${id}; see \`agov checkpoint list\``);
    return rowToCheckpoint(row);
  }

  latest(): Checkpoint | null {
    const row = this.ledger.db
      .prepare<[], CheckpointRow>('SELECT * FROM checkpoints ORDER BY head_seq DESC, created_at DESC LIMIT 1')
      .get();
    return row ? rowToCheckpoint(row) : null;
  }
}

function rowToCheckpoint(row: CheckpointRow): Checkpoint {
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
