import { ChainWalk, storedEntry } from '../ledger/chain-walk.js';
import { GENESIS_HASH } from '../ledger/entry-hash.js';
import type { LedgerReader } from '../ledger/ledger-reader.js';
import { decisionViewsAsync } from '../ledger/queries/decision-views.js';

export type ChainCheck =
  | { ok: true; upTo: number }
  | { ok: false; upTo: number; firstBadSeq: number; reason: string };

export interface ChainCheckerOptions {
  /** How often the whole chain is verified again from its first entry (default a minute). */
  fullEveryMs?: number;
  now?: () => number;
}

/** Entries read at once while walking: a full check of a long chain never holds it all in memory. */
const PAGE = 1000;

/**
 * Whether the chain verifies from its first entry up to `upTo`: every entry links to the one before
 * and hashes to what is stored. The entries a page shows are trustworthy only if this holds.
 *
 * Page views are cheap and cannot be used to stall the service: the whole chain is verified from
 * the first entry at most once per `fullEveryMs` (a remembered prefix alone would miss an entry
 * edited inside it), and in between only the entries appended since are checked, from the last
 * verified hash. One checker serves every page of the process; checks asked for at once run one
 * after another, so a page view waiting on another's walk finds its entries already verified.
 *
 * It reads through the ledger's query reader, so it runs on either engine. `AsyncLedger.verifyChain`
 * is not used: it walks the whole chain on every call, where a page needs the chain only up to
 * what it shows, and only the entries appended since the last view.
 */
export class ChainChecker {
  private verified = { upTo: 0, hash: GENESIS_HASH };
  private failure: Extract<ChainCheck, { ok: false }> | null = null;
  private fullAt = Number.NEGATIVE_INFINITY;
  private readonly fullEveryMs: number;
  private readonly now: () => number;
  private running: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly reader: LedgerReader,
    options: ChainCheckerOptions = {},
  ) {
    this.fullEveryMs = options.fullEveryMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  check(upTo: number): Promise<ChainCheck> {
    const next = this.running.then(() => this.checkNow(upTo));
    this.running = next.catch(() => undefined);
    return next;
  }

  private async checkNow(upTo: number): Promise<ChainCheck> {
    if (this.now() - this.fullAt >= this.fullEveryMs) {
      this.fullAt = this.now();
      this.verified = { upTo: 0, hash: GENESIS_HASH };
      this.failure = null;
    }
    if (this.failure && this.failure.firstBadSeq <= upTo) return { ...this.failure, upTo };
    if (this.verified.upTo >= upTo) return { ok: true, upTo };
    const result = await this.walk(this.verified.upTo, this.verified.hash, upTo);
    if (!result.ok) this.failure = result;
    return result;
  }

  /** Checks entries after `fromSeq` (whose hash is `fromHash`) up to `upTo`, remembering how far it got. */
  private async walk(fromSeq: number, fromHash: string, upTo: number): Promise<ChainCheck> {
    const chain = new ChainWalk({ seq: fromSeq, hash: fromHash });
    for (let from = fromSeq; from < upTo; from += PAGE) {
      const rows = await decisionViewsAsync.entriesBetween(this.reader, from, Math.min(from + PAGE, upTo));
      for (const row of rows) {
        const problem = chain.next(storedEntry(row));
        if (problem) return { ok: false, upTo, firstBadSeq: problem.seq, reason: problem.reason };
        this.verified = { upTo: row.seq, hash: row.hash };
      }
    }
    if (chain.checked < upTo)
      return {
        ok: false,
        upTo,
        firstBadSeq: chain.expectedSeq,
        reason: `entry ${chain.expectedSeq} is missing`,
      };
    return { ok: true, upTo };
  }
}
