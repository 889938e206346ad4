import { entryHash, GENESIS_HASH } from '../ledger/entry-hash.js';
import type { Ledger } from '../ledger/ledger.js';
import { type DecisionViewQueries, decisionViewQueries } from '../ledger/queries/decision-views.js';

export type ChainCheck =
  | { ok: true; upTo: number }
  | { ok: false; upTo: number; firstBadSeq: number; reason: string };

export interface ChainCheckerOptions {
  /** How often the whole chain is verified again from its first entry (default a minute). */
  fullEveryMs?: number;
  now?: () => number;
}

/**
 * Whether the chain verifies from its first entry up to `upTo`: every entry links to the one before
 * and hashes to what is stored. The entries a page shows are trustworthy only if this holds.
 *
 * Page views are cheap and cannot be used to stall the service: the whole chain is verified from
 * the first entry at most once per `fullEveryMs` (a remembered prefix alone would miss an entry
 * edited inside it), and in between only the entries appended since are checked, from the last
 * verified hash. One checker serves every page of the process.
 */
export class ChainChecker {
  private verified = { upTo: 0, hash: GENESIS_HASH };
  private failure: Extract<ChainCheck, { ok: false }> | null = null;
  private fullAt = Number.NEGATIVE_INFINITY;
  private readonly fullEveryMs: number;
  private readonly now: () => number;
  private readonly queries: DecisionViewQueries;

  constructor(ledger: Ledger, options: ChainCheckerOptions = {}) {
    this.queries = decisionViewQueries(ledger);
    this.fullEveryMs = options.fullEveryMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  check(upTo: number): ChainCheck {
    if (this.now() - this.fullAt >= this.fullEveryMs) {
      this.fullAt = this.now();
      this.verified = { upTo: 0, hash: GENESIS_HASH };
      this.failure = null;
    }
    if (this.failure && this.failure.firstBadSeq <= upTo) return { ...this.failure, upTo };
    if (this.verified.upTo >= upTo) return { ok: true, upTo };
    const result = this.walk(this.verified.upTo, this.verified.hash, upTo);
    if (!result.ok) this.failure = result;
    return result;
  }

  /** Checks entries after `fromSeq` (whose hash is `fromHash`) up to `upTo`, remembering how far it got. */
  private walk(fromSeq: number, fromHash: string, upTo: number): ChainCheck {
    let expected = fromSeq + 1;
    let prevHash = fromHash;
    for (const row of this.queries.entriesBetween(fromSeq, upTo)) {
      const fail = (reason: string, seq = row.seq): Extract<ChainCheck, { ok: false }> => ({
        ok: false,
        upTo,
        firstBadSeq: seq,
        reason,
      });
      if (row.seq !== expected) return fail(`entry ${expected} is missing`, expected);
      if (row.prev_hash !== prevHash) return fail(`entry ${row.seq} does not link to entry ${row.seq - 1}`);
      const computed = entryHash({
        seq: row.seq,
        ts: row.ts,
        type: row.type,
        agentId: row.agent_id,
        actor: row.actor,
        payload: row.payload,
        prevHash: row.prev_hash,
      });
      if (computed !== row.hash) return fail(`entry ${row.seq} was changed after it was written`);
      prevHash = row.hash;
      this.verified = { upTo: row.seq, hash: row.hash };
      expected++;
    }
    if (expected - 1 < upTo)
      return { ok: false, upTo, firstBadSeq: expected, reason: `entry ${expected} is missing` };
    return { ok: true, upTo };
  }
}
