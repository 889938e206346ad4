import type { LedgerEntry, LedgerEntryInput } from '../core/ledger-entries.js';
import type { InboxQueue } from './inbox-queue.js';
import type { LedgerHead } from './ledger.js';
import type { LedgerReader } from './ledger-reader.js';
import type { OutboxMessage, OutboxMessageInput, OutboxTarget } from './outbox.js';
import type { Question } from './queries/query.js';

/**
 * The asynchronous ledger both engines implement (SQLite through an adapter over the synchronous
 * `Ledger`, PostgreSQL natively), and the interface the service moves to for several replicas.
 * One contract suite (test/ledger/async-ledger.contract.test.ts) holds both to it.
 */
export interface AsyncLedger {
  readonly engine: 'sqlite' | 'postgres';
  /**
   * Appends entries atomically, linked to the head, with the outbox messages they cause (attached
   * to the last entry) in the same transaction: both commit or neither does. Appends from every
   * connection and every replica form one chain; appends requested together may share a commit.
   */
  appendAll(inputs: readonly LedgerEntryInput[], options?: AsyncAppendOptions): Promise<LedgerEntry[]>;
  append(input: LedgerEntryInput, options?: AsyncAppendOptions): Promise<LedgerEntry>;
  /**
   * Appends the entries `decide` chooses from the ledger exactly as they will extend it: nothing
   * is appended by anyone between what `decide` reads and its entries (the re-check rule: a
   * revocation committed by one replica is seen by an allow another is writing). `decide` may be
   * called more than once (SQLite decides again when the head moved meanwhile); keep it to reads
   * through `view`: on PostgreSQL it runs holding the head row, so an append it awaited on the
   * same ledger would wait for itself. With `options.follower`, rejects with `FollowerMovedError`
   * (nothing at all written) when the follower is no longer where the caller read it.
   */
  appendDecided(decide: DecideEntries, options?: AsyncAppendOptions): Promise<LedgerEntry[]>;
  /**
   * `appendDecided` for a decision made from one question's answer by a synchronous function: the
   * same rule (nothing is appended between the answer and the entries), but SQLite asks and decides
   * inside its group commit, in the transaction it shares with the other appends waiting in the
   * same turn, instead of a transaction of its own. PostgreSQL asks through the transaction's
   * reader, as `appendDecided`. `decide` may be called more than once; one that throws appends
   * nothing and takes no other append down.
   */
  appendAnswered<R>(
    question: Question<R>,
    decide: (answer: R) => readonly LedgerEntryInput[],
    options?: Pick<AsyncAppendOptions, 'outbox'>,
  ): Promise<LedgerEntry[]>;
  head(): Promise<LedgerHead>;
  /** Entries with `seq > afterSeq`, oldest first. */
  entriesAfter(afterSeq: number, limit?: number): Promise<LedgerEntry[]>;
  /** Walks the whole hash chain: each entry present, linked to the one before, hashing to its stored hash. */
  verifyChain(): Promise<ChainVerdict>;
  /**
   * The chain as `verifyChain`, then every projection table rebuilt from it with this build's
   * projectors (into temporary tables, from this build's schema: the stored schema and indexes are
   * never trusted) and compared row by row: the first bad row names its table and key. SQLite's is
   * `verifyLedger`, which also checks checkpoints and the pinned key.
   */
  verify(): Promise<LedgerVerdict>;
  readonly inbox: AsyncInbox;
  readonly outbox: AsyncOutbox;
  readonly followers: FollowerPositions;
  /** The projections and the chain as src/ledger/queries reads them (`decisionsAsync.latestDecision(reader, …)`). */
  readonly reader: LedgerReader;
  close(): Promise<void>;
}

/** The ledger as a decision inside the write transaction sees it. */
export interface LedgerView {
  /** The head the decided entries will extend. */
  readonly head: LedgerHead;
  /** Entries with `seq > afterSeq` up to the head, oldest first. */
  entriesAfter(afterSeq: number, limit?: number): Promise<LedgerEntry[]>;
  /**
   * The queries' reader as of `head`: what was committed before the decision, nothing after (on
   * PostgreSQL the transaction's own connection; on SQLite a read after another writer moved the
   * head is thrown away with the decision, which is made again).
   */
  readonly reader: LedgerReader;
}

/**
 * What a decision appends: its entries, or its entries with the outbox messages they cause
 * (attached to the last entry, after any the append's options name). No entries: nothing is
 * appended, the messages neither. `followUps`: calls caused by entries already in the ledger (at
 * or before the head the decision saw), queued in the same transaction after the messages above,
 * even when no entry is appended; one whose key was queued before is skipped, and one naming an
 * entry not in the ledger refuses the whole decision (nothing is written).
 */
export type Decided =
  | readonly LedgerEntryInput[]
  | {
      entries: readonly LedgerEntryInput[];
      outbox?: readonly OutboxMessageInput[];
      followUps?: readonly FollowUp[];
      /**
       * With `options.follower`: where its position moves, instead of `follower.to` (a step that
       * handled only part of what it read); more than `follower.from`, at most `follower.to`.
       */
      followedTo?: number;
    };

/** An outbox message caused by the entry `seq`, already in the ledger. */
export interface FollowUp {
  seq: number;
  message: OutboxMessageInput;
}

export type DecideEntries = (view: LedgerView) => Promise<Decided> | Decided;

/** A decision's entries, outbox messages and follow-ups, whichever form it returned. */
export function decidedParts(decided: Decided): {
  entries: readonly LedgerEntryInput[];
  outbox: readonly OutboxMessageInput[];
  followUps: readonly FollowUp[];
  followedTo?: number;
} {
  if (Array.isArray(decided))
    return { entries: decided as readonly LedgerEntryInput[], outbox: [], followUps: [] };
  const parts = decided as Exclude<Decided, readonly LedgerEntryInput[]>;
  return {
    entries: parts.entries,
    outbox: parts.outbox ?? [],
    followUps: parts.followUps ?? [],
    ...(parts.followedTo === undefined ? {} : { followedTo: parts.followedTo }),
  };
}

/**
 * Where a decision moves `follower` (its `followedTo`, or `follower.to`), refused unless it moves
 * forward within what the caller read (`from` < position <= `to`, `to` at most `head`).
 */
export function followerTarget(
  follower: FollowerMove,
  followedTo: number | undefined,
  head: LedgerHead,
): number {
  const to = followedTo ?? follower.to;
  if (!Number.isSafeInteger(to) || to <= follower.from || to > follower.to || to > head.seq)
    throw new Error(
      `follower ${follower.name} cannot move from ${follower.from} to ${to} (read up to ${follower.to}, head ${head.seq}): nothing was written`,
    );
  return to;
}

/**
 * A follower's position was not at `from` any more when the decision would have moved it (another
 * replica or process moved it first): nothing at all was written. Not a failure: the step that
 * read the position lost a race, and reads it again.
 */
export class FollowerMovedError extends Error {
  constructor(readonly follower: string) {
    super(`follower ${follower} was moved by another process; nothing was written`);
    this.name = 'FollowerMovedError';
  }
}

/**
 * Refuses follow-ups whose cause is not an entry at or before `head` (the outbox table has no
 * foreign key to the entries: a message with a made-up cause would be stored as it is).
 */
export function checkFollowUps(followUps: readonly FollowUp[], head: LedgerHead): void {
  for (const { seq, message } of followUps)
    if (!Number.isSafeInteger(seq) || seq < 1 || seq > head.seq)
      throw new Error(
        `follow-up ${message.idempotencyKey} names entry ${seq}, which is not in the ledger (head ${head.seq}): nothing was written`,
      );
}

export interface AsyncAppendOptions {
  outbox?: readonly OutboxMessageInput[];
  /**
   * Outbox messages to mark delivered in the same transaction as the entries (a delivery and the
   * effect it establishes, recorded together), whoever holds them now: they were delivered. Marked
   * even when nothing is appended.
   */
  delivered?: readonly number[];
  /**
   * A follower's position moved from `from` to `to` (or the decision's `followedTo`) in the same
   * transaction as the decided entries, if it still is `from`; otherwise nothing at all is written
   * and `appendDecided` rejects with `FollowerMovedError`. Only `appendDecided` takes it.
   */
  follower?: FollowerMove;
}

/** A follower's position as a step read it (`from`) and the last entry it read (`to`). */
export interface FollowerMove {
  name: string;
  from: number;
  to: number;
}

export type ChainVerdict =
  | { ok: true; checked: number; head: LedgerHead }
  | { ok: false; checked: number; firstBadSeq: number; reason: string };

export type LedgerVerdict =
  | { ok: true; checked: number; head: LedgerHead; tables: readonly string[] }
  | {
      ok: false;
      checked: number;
      /** The first bad entry; for a projection row, the row's seq (0 when its key has none). */
      firstBadSeq: number;
      reason: string;
      /** Set when the chain verifies and a projection row does not. */
      projection?: { table: string; key: string };
    };

export interface InboxDeliveryInput {
  source: 'github' | 'slack';
  /** The sender's id for the delivery; a redelivery keeps it. */
  deliveryId: string;
  event: string;
  action: string | null;
  repository: string | null;
  payloadText: string;
  /** Deliveries of one work group waiting together may be processed once (SQLite's inbox coalesces them). */
  group?: string | null;
  outbox?: readonly OutboxMessageInput[];
}

export interface AsyncInbox {
  /**
   * Stores a delivery and its `delivery.received` entry in one transaction; null when the id was
   * stored before (by this process or any other), in which case nothing is written. Deliveries
   * stored at once may share a commit.
   */
  record(delivery: InboxDeliveryInput): Promise<LedgerEntry | null>;
  /** The stored deliveries as `claimer`'s worker processes them (see `InboxQueue`). */
  queue(claimer: string, leaseMs: number): InboxQueue;
}

export interface OutboxClaimOptions {
  /** Who claims: the same name completes or retries the message. */
  claimer: string;
  /** How long the claim holds; after it another claimer may take the message over. */
  leaseMs: number;
  limit?: number;
  /**
   * A lane: ordering keys that start with `prefix`, claimed alone (`inside: true`: the alerts a
   * deliverer sends before anything else) or left out (`inside: false`).
   */
  lane?: { prefix: string; inside: boolean };
}

export interface AsyncOutbox {
  /**
   * Claims due pending messages for a target, oldest first, the oldest of each ordering key only
   * (order holds per key), skipping messages another claimer holds under a lease not yet expired.
   * Two claimers never hold the same message at once.
   */
  claim(target: OutboxTarget, options: OutboxClaimOptions): Promise<OutboxMessage[]>;
  /**
   * Marks a claimed message delivered; false when `claimer` no longer holds it (its lease was taken
   * over). `also`: pending messages the same call stood for (identical alerts sent as one), marked
   * delivered with it.
   */
  complete(id: number, claimer: string, also?: readonly number[]): Promise<boolean>;
  /**
   * Gives back the claims `claimer` holds, every one or those named (a replica restarted under its
   * own name does so first, instead of waiting for its old leases to run out); how many.
   */
  release(claimer: string, ids?: readonly number[]): Promise<number>;
  /** Marks a claimed message failed for good (unreadable, or refused again and again), kept with the reason. */
  fail(id: number, claimer: string, error: string): Promise<boolean>;
  /** Releases a claimed message to be tried again at `nextAttemptAt`; false when `claimer` no longer holds it. */
  retry(id: number, claimer: string, error: string, nextAttemptAt: Date): Promise<boolean>;
  /** Every message caused by the entry `seq` (whatever its status), oldest first. */
  forEntry(seq: number): Promise<OutboxMessage[]>;
  /**
   * Queues a message no ledger entry causes (a reply to a Slack click or view), tied to none (its
   * cause is 0); a key queued before is skipped. What an entry calls for is queued with the entry.
   */
  enqueueUncaused(message: OutboxMessageInput): Promise<void>;
  /** Every pending message with an ordering key, due or not, oldest first: what a digest gathers. */
  pendingWith(target: OutboxTarget, orderingKey: string): Promise<OutboxMessage[]>;
  /** When a message with this ordering key was last delivered (ISO 8601), or null. */
  lastDeliveredAt(target: OutboxTarget, orderingKey: string): Promise<string | null>;
  /** Whether a message for the target could be claimed now (due, and nobody's lease holds it). */
  anyDue(target: OutboxTarget): Promise<boolean>;
  /** How many messages wait (for one target, or all). */
  pendingCount(target?: OutboxTarget): Promise<number>;
}

/**
 * What a follower's handler asks for one entry: entries appended (the step ends its batch after
 * this entry, so the next entry's handler sees them) and calls caused by the followed entry
 * (queued against its seq). Nothing: no entry, no call.
 */
export interface FollowerWork {
  entries?: readonly LedgerEntryInput[];
  calls?: readonly OutboxMessageInput[];
}

/**
 * Handles one entry from the ledger as the step's decision sees it (`view`, at or past the entry):
 * reads only, through `view.reader`; it may run more than once (a decision made again).
 */
export type FollowerHandler = (entry: LedgerEntry, view: LedgerView) => Promise<FollowerWork> | FollowerWork;

/** What one step of a follower did: how many entries it handled, and the entries its handlers appended. */
export interface FollowerStep {
  handled: number;
  appended: LedgerEntry[];
}

export interface FollowerPositions {
  /**
   * One step of the follower `name` (see `followerStep`): reads its position and up to `limit`
   * entries after it, handles them in one decided append that moves the position with what the
   * handlers chose; a handler that throws leaves everything undone. A step that another process
   * beat to the same entries (their position moved meanwhile) handles nothing and returns 0.
   */
  step(name: string, handle: FollowerHandler, limit?: number): Promise<FollowerStep>;
  /** The follower's stored position (0 before its first run). */
  position(name: string): Promise<number>;
  /**
   * Moves the position from `from` to `to` if it still is `from`: false when another process moved
   * it first, so two replicas never both take the same entries as theirs.
   */
  advance(name: string, from: number, to: number): Promise<boolean>;
}
