import Database from 'better-sqlite3';
import type { LedgerEntry, LedgerEntryInput } from '../core/ledger-entries.js';
import {
  type AsyncAppendOptions,
  type AsyncInbox,
  type AsyncLedger,
  type AsyncOutbox,
  type ChainVerdict,
  checkFollowUps,
  type DecideEntries,
  decidedParts,
  FollowerMovedError,
  type FollowerPositions,
  followerTarget,
  type LedgerVerdict,
  type LedgerView,
} from './async-ledger.js';
import { checkChain } from './chain-check.js';
import { followerStep } from './follower-step.js';
import { followerPosition } from './followers.js';
import { Inbox } from './inbox.js';
import { sqliteInboxQueue } from './inbox-queue.js';
import { dbOf, type Ledger, type LedgerHead } from './ledger.js';
import { type LedgerReader, sqliteReader, sqliteStatement } from './ledger-reader.js';
import { SqliteOutboxLeases } from './outbox-leases.js';
import type { Question } from './queries/query.js';
import { verifyLedger } from './verify.js';
import { ledgerVerdictOf } from './verify-verdict.js';

/** How often a decision is made again because another writer moved the head meanwhile. */
const MAX_DECISIONS = 50;

/**
 * The asynchronous ledger over today's synchronous SQLite `Ledger`: the same file, the same
 * chain, appends through its group commit. The rest of the service keeps the synchronous API.
 */
export class SqliteAsyncLedger implements AsyncLedger {
  readonly engine = 'sqlite';
  readonly inbox: AsyncInbox;
  readonly outbox: AsyncOutbox;
  readonly followers: FollowerPositions;
  readonly reader: LedgerReader;
  private readonly leases: SqliteOutboxLeases;

  constructor(
    private readonly ledger: Ledger,
    now: () => Date = () => new Date(),
  ) {
    this.reader = sqliteReader(ledger);
    const inbox = new Inbox(ledger, now);
    const queue = sqliteInboxQueue(inbox);
    this.inbox = {
      record: (delivery) => inbox.acceptSoon({ ...delivery, outbox: [...(delivery.outbox ?? [])] }),
      queue: () => queue,
    };
    const leases = new SqliteOutboxLeases(ledger, now);
    this.leases = leases;
    this.outbox = {
      claim: async (target, options) => leases.claim(target, options),
      complete: async (id, claimer, also) => leases.complete(id, claimer, also),
      retry: async (id, claimer, error, at) => leases.retry(id, claimer, error, at),
      fail: async (id, claimer, error) => leases.fail(id, claimer, error),
      release: async (claimer, ids) => leases.release(claimer, ids),
      forEntry: async (seq) => leases.forEntry(seq),
      enqueueUncaused: async (message) => ledger.outbox.enqueue(0, message),
      pendingWith: async (target, key) => ledger.outbox.pendingWith(target, key),
      lastDeliveredAt: async (target, key) => ledger.outbox.lastDeliveredAt(target, key),
      pendingCount: async (target) => ledger.outbox.pendingCount(target),
      anyDue: async (target) => leases.anyDue(target),
    };
    this.followers = {
      position: async (name) => followerPosition(ledger, name),
      advance: async (name, from, to) => advanceFollower(ledger, name, from, to),
      step: (name, handle, limit) => followerStep(this, name, handle, limit),
    };
  }

  async appendAll(
    inputs: readonly LedgerEntryInput[],
    options: AsyncAppendOptions = {},
  ): Promise<LedgerEntry[]> {
    const appendOptions = options.outbox ? { outbox: options.outbox } : {};
    if (options.delivered?.length) return this.appendDelivered(inputs, options.delivered, appendOptions);
    try {
      return await this.ledger.appendSoon(inputs, appendOptions);
    } catch (error) {
      // The shared commit was refused and rolled back (SQLite commits in this thread: never half
      // done). One group the database refuses must not take the others down: each alone again.
      if (!(error instanceof Database.SqliteError)) throw error;
      return this.ledger.appendAll(inputs, appendOptions);
    }
  }

  /**
   * Asks and decides inside the group commit (`appendSoon`): one transaction and one WAL commit
   * with the other appends of the same turn, and nothing between the answer and the entries. A
   * shared commit the database refuses is tried again alone, as `appendAll` does.
   */
  async appendAnswered<R>(
    question: Question<R>,
    decide: (answer: R) => readonly LedgerEntryInput[],
    options: Pick<AsyncAppendOptions, 'outbox'> = {},
  ): Promise<LedgerEntry[]> {
    const decideNow = () => decide(question.sync(this.ledger));
    const appendOptions = options.outbox ? { outbox: options.outbox } : {};
    try {
      return await this.ledger.appendSoon(decideNow, appendOptions);
    } catch (error) {
      if (!(error instanceof Database.SqliteError)) throw error;
      return this.ledger.atomically(() => this.ledger.appendAll(decideNow(), appendOptions));
    }
  }

  /**
   * Optimistic: decides against the head as it is, then appends in a write transaction only if the
   * head has not moved meanwhile; otherwise decides again. A follower named in the options is
   * read and moved in that transaction (writers take SQLite's write lock in turn).
   */
  async appendDecided(decide: DecideEntries, options: AsyncAppendOptions = {}): Promise<LedgerEntry[]> {
    for (let attempt = 1; attempt <= MAX_DECISIONS; attempt++) {
      const head = this.ledger.head();
      const decided = decidedParts(await decide(this.viewAt(head)));
      checkFollowUps(decided.followUps, head);
      const outbox = [...(options.outbox ?? []), ...decided.outbox];
      const { follower } = options;
      const followTo = follower ? followerTarget(follower, decided.followedTo, head) : 0;
      const entries = this.ledger.atomically(() => {
        if (this.ledger.head().seq !== head.seq) return null;
        if (follower && !moveFollower(this.ledger, follower.name, follower.from, followTo))
          throw new FollowerMovedError(follower.name);
        this.leases.markDelivered(options.delivered ?? []);
        const appended = this.ledger.appendAll(decided.entries, { outbox });
        for (const { seq, message } of decided.followUps) this.ledger.outbox.enqueue(seq, message);
        return appended;
      });
      if (entries) return entries;
    }
    throw new Error(`the ledger moved during each of ${MAX_DECISIONS} decisions; nothing was appended`);
  }

  private appendDelivered(
    inputs: readonly LedgerEntryInput[],
    delivered: readonly number[],
    options: { outbox?: AsyncAppendOptions['outbox'] },
  ): LedgerEntry[] {
    return this.ledger.atomically(() => {
      this.leases.markDelivered(delivered);
      return this.ledger.appendAll(inputs, options);
    });
  }

  private viewAt(head: LedgerHead): LedgerView {
    return {
      head,
      reader: this.reader,
      entriesAfter: async (afterSeq, limit = 1000) =>
        this.ledger.entriesAfter(afterSeq, limit).filter((e) => e.seq <= head.seq),
    };
  }

  async append(input: LedgerEntryInput, options: AsyncAppendOptions = {}): Promise<LedgerEntry> {
    return (await this.appendAll([input], options))[0]!;
  }

  async head(): Promise<LedgerHead> {
    return this.ledger.head();
  }

  async entriesAfter(afterSeq: number, limit = 1000): Promise<LedgerEntry[]> {
    return this.ledger.entriesAfter(afterSeq, limit);
  }

  async verifyChain(): Promise<ChainVerdict> {
    const head = this.ledger.head();
    const result = checkChain(dbOf(this.ledger), head.seq);
    if (!result.problem)
      return { ok: true, checked: result.checked, head: { seq: result.checked, hash: result.head } };
    return {
      ok: false,
      checked: result.checked,
      firstBadSeq: result.problem.seq,
      reason: result.problem.reason,
    };
  }

  async verify(): Promise<LedgerVerdict> {
    return ledgerVerdictOf(verifyLedger(this.ledger));
  }

  async close(): Promise<void> {
    this.ledger.close();
  }
}

function advanceFollower(ledger: Ledger, name: string, from: number, to: number): boolean {
  return ledger.atomically(() => moveFollower(ledger, name, from, to));
}

/** Moves the position from `from` to `to` if it still is `from`; in the caller's write transaction. */
function moveFollower(ledger: Ledger, name: string, from: number, to: number): boolean {
  if (followerPosition(ledger, name) !== from) return false;
  sqliteStatement(
    dbOf(ledger),
    'INSERT INTO follower_positions (name, seq) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET seq = excluded.seq',
  ).run(name, to);
  return true;
}
