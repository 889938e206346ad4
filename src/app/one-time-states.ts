import { randomBytes } from 'node:crypto';

/**
 * The `state` values the setup page handed out, each good once and for `ttlMs`: a callback whose
 * state was not issued here, is too old, or was used already is refused. Held in this process: a
 * registration starts and ends on the one service that shows the page. At most `max` wait at once
 * (each visit of the page issues one), the oldest dropped first.
 */
export class OneTimeStates {
  private readonly issued = new Map<string, number>();

  constructor(
    private readonly now: () => number,
    private readonly ttlMs = 60 * 60_000,
    private readonly max = 100,
  ) {}

  issue(): string {
    const state = randomBytes(20).toString('hex');
    this.issued.set(state, this.now() + this.ttlMs);
    for (const oldest of this.issued.keys()) {
      if (this.issued.size <= this.max) break;
      this.issued.delete(oldest);
    }
    return state;
  }

  /**
   * Takes a state issued here and not expired: it is gone afterwards. Answers null for any other,
   * else a function that puts it back (with its first expiry) when its use failed for a passing
   * reason, so the same callback can be retried.
   */
  take(state: string): (() => void) | null {
    const expires = this.issued.get(state);
    this.issued.delete(state);
    if (expires === undefined || this.now() > expires) return null;
    return () => this.issued.set(state, expires);
  }

  clear(): void {
    this.issued.clear();
  }
}
