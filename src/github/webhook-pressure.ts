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
 * And only while more than this many deliveries a second are stored: half again the 200/s a busy
 * installation is planned for, so a service merely slow at that rate (a machine short of CPU,
 * its requests waiting longer) keeps deciding at full speed rather than falling behind. Stored,
 * not answered: a flood of refused requests (no secret, replays) cannot hold decisions back.
 */
const PRESSED_PER_SECOND = 300;

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
  /** Open requests × milliseconds, and deliveries stored, in the current window. */
  private area = 0;
  private answered = 0;
  /** The same over the last whole window, per millisecond. */
  private previous = { open: 0, answered: 0 };
  private wasPressed = false;

  begin(): void {
    this.advance();
    this.open++;
  }

  end(): void {
    this.advance();
    this.open--;
  }

  /** A new delivery was stored and answered 202. */
  stored(): void {
    this.advance();
    this.answered++;
  }

  /** Whether senders press: many requests open at once on average, deliveries stored at a high rate. */
  pressed(): boolean {
    // Over the last whole window and the current one: a burst at the start of a window does not
    // count as if it went on for the whole of it.
    const span = WINDOW_MS + this.advance() - this.windowStart;
    const open = (this.previous.open * WINDOW_MS + this.area) / span;
    const perSecond = ((this.previous.answered * WINDOW_MS + this.answered) / span) * 1000;
    this.wasPressed =
      perSecond > PRESSED_PER_SECOND && open >= (this.wasPressed ? RELIEVED_OPEN : PRESSED_OPEN);
    return this.wasPressed;
  }

  private advance(): number {
    const now = performance.now();
    this.area += this.open * (now - this.since);
    this.since = now;
    const elapsed = now - this.windowStart;
    if (elapsed >= WINDOW_MS) {
      this.previous = { open: this.area / elapsed, answered: this.answered / elapsed };
      this.area = 0;
      this.answered = 0;
      this.windowStart = now;
    }
    return now;
  }
}
