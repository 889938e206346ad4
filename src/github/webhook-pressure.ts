/** The window over which open requests are averaged. */
const WINDOW_MS = 100;
/**
 * Webhook requests open at once, on average, from which senders press: a flood of 20 senders
 * keeps 10 to 20 open, 200 a second answered in 5 ms keep one. Not an arrival rate: a flood whose
 * acknowledgements wait behind decisions arrives no faster than 200 a second either.
 */
const PRESSED_OPEN = 6;
/** Once pressed, until fewer than this are open on average: no flapping at the threshold. */
const RELIEVED_OPEN = 3;

/**
 * How hard webhook senders press: the webhook requests open at once (read, checked, stored, not
 * yet answered), averaged over time. By Little's law that is arrivals × time to the
 * acknowledgement, so it rises both when more arrive and when other work holds the event loop and
 * the acknowledgements wait; an arrival rate would fall as soon as the acknowledgements slow down
 * (a sender waits for its answer before it sends the next), and hide the pressure.
 */
export class WebhookPressure {
  private open = 0;
  private since = performance.now();
  private windowStart = this.since;
  /** Open requests × milliseconds in the current window. */
  private area = 0;
  /** The average over the last whole window. */
  private previous = 0;
  private wasPressed = false;

  begin(): void {
    this.advance();
    this.open++;
  }

  end(): void {
    this.advance();
    this.open--;
  }

  /** Whether senders press: many requests open at once, on average. */
  pressed(): boolean {
    // Over the last whole window and the current one: a burst at the start of a window does not
    // count as if it went on for the whole of it.
    const span = WINDOW_MS + this.advance() - this.windowStart;
    const open = (this.previous * WINDOW_MS + this.area) / span;
    this.wasPressed = open >= (this.wasPressed ? RELIEVED_OPEN : PRESSED_OPEN);
    return this.wasPressed;
  }

  private advance(): number {
    const now = performance.now();
    this.area += this.open * (now - this.since);
    this.since = now;
    const elapsed = now - this.windowStart;
    if (elapsed >= WINDOW_MS) {
      this.previous = this.area / elapsed;
      this.area = 0;
      this.windowStart = now;
    }
    return now;
  }
}
