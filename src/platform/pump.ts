/**
 * Runs a unit of work again and again: every `intervalMs`, and soon after `kick()`. Runs are
 * chained, so two never overlap; a run that throws is reported and the pump carries on.
 */
export class Pump {
  private timer: NodeJS.Timeout | null = null;
  private chain: Promise<void> = Promise.resolve();
  private kicked = false;
  private stopped = false;

  constructor(
    private readonly work: () => Promise<void>,
    private readonly intervalMs: number,
    private readonly onError: (error: unknown) => void,
  ) {}

  start(): this {
    this.timer = setInterval(() => void this.runNow(), this.intervalMs);
    this.timer.unref();
    return this;
  }

  /** Asks for a run soon; many kicks before it starts make one run. */
  kick(): void {
    if (this.kicked || this.stopped) return;
    this.kicked = true;
    setImmediate(() => {
      this.kicked = false;
      void this.runNow();
    });
  }

  /** Runs once after any run in progress, and resolves when that run has finished. */
  runNow(): Promise<void> {
    if (this.stopped) return this.chain;
    this.chain = this.chain.then(() => this.work().catch(this.onError));
    return this.chain;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.chain;
  }
}
