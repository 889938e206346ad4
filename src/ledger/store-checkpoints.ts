import {
  applyStateChanges,
  type DerivedState,
  emptyDerivedState,
  stateChangesFor,
} from '../core/derived-state.js';
import type { AsyncLedger } from './async-ledger.js';
import {
  type Checkpoint,
  checkpointParams,
  INSERT_CHECKPOINT,
  keyNotPinnedError,
  type SignedHead,
  signedCheckpoint,
} from './checkpoints.js';
import { GENESIS_HASH } from './entry-hash.js';
import { type PinnedKey, pinnedKeyOf } from './pinned-key.js';
import { checkpointQueries } from './queries/checkpoints.js';
import type { SigningKey } from './signing-key.js';

const PINNED =
  "SELECT seq, payload FROM ledger_entries WHERE type = 'ledger.key_pinned' AND seq >= 1 ORDER BY seq LIMIT 1";

/** The checkpoints the service reads and writes, on either engine. */
export interface AsyncCheckpoints {
  /** Folds the ledger from the newest checkpoint to the head and stores it, signed (pinning the key first). */
  create(): Promise<Checkpoint>;
  latest(): Promise<Checkpoint | null>;
  /** Every checkpoint's signed head (without its state), newest first: `agov checkpoint list`. */
  list(): Promise<SignedHead[]>;
  /** The checkpoint `id`, with its state; an unknown id is a `checkpoint_not_found` UserError. */
  get(id: string): Promise<Checkpoint>;
  /** The derived state at the current head: the newest checkpoint plus every entry after it. */
  stateAtHead(): Promise<{ state: DerivedState; head: { seq: number; hash: string } }>;
}

/**
 * Checkpoints through the asynchronous ledger. A checkpoint is derived: its row is written after
 * the state it folds was read, naming the head it folds up to, so entries appended meanwhile (by
 * this replica or another) simply follow it. The signing key is pinned in the chain by one
 * decided append, once, whichever replica checkpoints first.
 */
export class StoreCheckpoints implements AsyncCheckpoints {
  constructor(
    private readonly store: AsyncLedger,
    private readonly key: SigningKey,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async create(): Promise<Checkpoint> {
    await this.pinKey();
    const { state, head } = await this.stateAtHead();
    const { checkpoint, stateText } = signedCheckpoint(state, head, this.key, this.now());
    await this.store.reader.run(INSERT_CHECKPOINT, checkpointParams(checkpoint, stateText));
    return checkpoint;
  }

  latest(): Promise<Checkpoint | null> {
    return checkpointQueries.latest.read(this.store.reader);
  }

  list(): Promise<SignedHead[]> {
    return checkpointQueries.list.read(this.store.reader);
  }

  get(id: string): Promise<Checkpoint> {
    return checkpointQueries.byId.read(this.store.reader, id);
  }

  async stateAtHead(): Promise<{ state: DerivedState; head: { seq: number; hash: string } }> {
    const latest = await this.latest();
    const state = latest ? structuredClone(latest.state) : emptyDerivedState();
    let head = latest ? { seq: latest.headSeq, hash: latest.headHash } : { seq: 0, hash: GENESIS_HASH };
    for (let page = await this.store.entriesAfter(head.seq); page.length > 0; ) {
      for (const entry of page) {
        applyStateChanges(state, stateChangesFor(entry));
        head = { seq: entry.seq, hash: entry.hash };
      }
      page = await this.store.entriesAfter(head.seq);
    }
    return { state, head };
  }

  /** Pins this key unless one is pinned; a different key pinned already is refused. */
  private async pinKey(): Promise<void> {
    const pin = {
      type: 'ledger.key_pinned' as const,
      agentId: null,
      actor: 'agov',
      payload: { publicKey: this.key.publicKey },
    };
    let pinned: PinnedKey | null = null;
    await this.store.appendDecided(async ({ reader }) => {
      pinned = await pinnedIn(reader);
      return pinned ? [] : [pin];
    });
    const found = pinned as PinnedKey | null;
    if (found && found.publicKey !== this.key.publicKey) throw keyNotPinnedError(found.seq);
  }
}

async function pinnedIn(reader: AsyncLedger['reader']): Promise<PinnedKey | null> {
  const row = await reader.get<{ seq: number; payload: string }>(PINNED);
  return row ? pinnedKeyOf(row) : null;
}
