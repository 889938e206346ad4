/**
 * The one source of "now" outside the core (which takes `now` as an argument). Passed in at the
 * composition root; tests that need time to pass move a `ManualClock` instead of sleeping.
 */
export interface Clock {
  now(): Date;
  /** Milliseconds since the epoch, as `Date.now()`. */
  ms(): number;
}

export const systemClock: Clock = {
  now: () => new Date(),
  ms: () => Date.now(),
};

/** A clock that moves only when told: for tests of expiry, TTLs and windows. */
export class ManualClock implements Clock {
  private at: number;

  constructor(start: Date | number = Date.UTC(2026, 10, 27, 6, 0, 0)) {
    this.at = typeof start === 'number' ? start : start.getTime();
  }

  now(): Date {
    return new Date(this.at);
  }

  ms(): number {
    return this.at;
  }

  advance(ms: number): void {
    this.at += ms;
  }

  set(to: Date): void {
    this.at = to.getTime();
  }
}
