/** The window over which open requests are averaged. */
const WINDOW_MS = 100;

/**
 * How hard webhook senders press: the webhook requests open at once (read, checked, stored, not
 * yet answered), averaged over time. By Little's law that is arrivals × time to the
 * acknowledgement, so it rises both when more arrive and when other work holds the event loop
 * and the acknowledgements wait; an arrival rate alone would fall when the acknowledgements slow
 * down (a sender waits for its answer before it sends the next), and hide the pressure.
 */
export class WebhookPressure {
  private open = 0;
  private since = performance.now();
  private windowStart = this.since;
  /** Open requests × milliseconds in the current window. */
  private area = 0;
  /** The average of the last whole window. */
  private previous = 0;

  begin(): void {
    this.advance();
    this.open++;
  }

  end(): void {
    this.advance();
    this.open--;
  }

  /** Requests open on average over the last window of WINDOW_MS, or over the current one when higher. */
  average(): number {
    const now = this.advance();
    const elapsed = now - this.windowStart;
    return Math.max(this.previous, elapsed > 0 ? this.area / elapsed : 0);
  }

  private advance(): number {
    const now = performance.now();
    this.area += this.open * (now - this.since);
    this.since = now;
    if (now - this.windowStart >= WINDOW_MS) {
      this.previous = this.area / (now - this.windowStart);
      this.area = 0;
      this.windowStart = now;
    }
    return now;
  }
}
