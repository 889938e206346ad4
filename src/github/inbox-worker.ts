import type { CircuitBreakerPolicy } from 'cockatiel';
import type { Probot } from 'probot';
import { describe, unwrap } from '../integrations/delivery-loop.js';
import type { DueDelivery, InboxDelivery } from '../ledger/inbox.js';
import type { InboxQueue } from '../ledger/inbox-queue.js';
import type { Logger } from '../platform/logger.js';
import { BrokenCircuitError, isRefusedInput, isTransient, retryAt } from '../platform/resilience.js';
import type { WebhookPressure } from './webhook-pressure.js';

/** Deliveries processed at once (each mostly waits on GitHub). */
export const INBOX_CONCURRENCY = 16;
/**
 * While senders press (see WebhookPressure: many webhook requests wait for their
 * acknowledgements), only this many are processed at once, one started every TRICKLE_MS at most
 * (a decision costs a few ms of CPU): GitHub waits for the acknowledgement, not for the decision,
 * so acknowledgements go first and decisions catch up when the burst is over. Never none:
 * decisions go on at a trickle under a flood that does not stop.
 */
const WHILE_PRESSED = 1;
const TRICKLE_MS = 50;

/** Events that concern one PR: run beside other PRs' events, in order with their own PR's. */
const PER_PULL_REQUEST = new Set(['pull_request', 'pull_request_review']);

/**
 * Processes stored deliveries through the Probot handlers, oldest first: up to `concurrency` at
 * once across PRs, one at a time per PR (so a PR's events are decided in the order they arrived).
 * Every other event (a push that changes the policy, a CI result naming several PRs, a merge
 * group) runs alone, after everything before it and before everything after it.
 */
export class InboxWorker {
  /** The ledger sequence of each delivery being processed, by delivery id. */
  private readonly inFlight = new Map<string, { seq: number; key: string | null; done: Promise<void> }>();
  private wake: (() => void) | null = null;
  /** The ordering key of each due delivery seen, until it is processed. */
  private readonly keys = new Map<string, string | null>();
  private breakerOpen = false;
  /** When the last delivery started (ms). */
  private lastStart = 0;
  private holdTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly o: {
      inbox: InboxQueue;
      probot: Probot;
      breaker: CircuitBreakerPolicy;
      logger: Logger;
      retry: { initialMs: number; maxMs: number };
      concurrency?: number;
      /** The webhook requests waiting for their acknowledgement; none counted when absent. */
      pressure?: WebhookPressure;
    },
  ) {}

  /** The ledger sequence of a delivery being processed (0 when it is not). */
  seqOf(deliveryId: string): number {
    return this.inFlight.get(deliveryId)?.seq ?? 0;
  }

  /** Whether a run is under way; `notify()` then makes it look for new deliveries at once. */
  get running(): boolean {
    return this.wake !== null;
  }

  notify(): void {
    this.wake?.();
  }

  /** Processes every due delivery; resolves when none is due and none is in flight. */
  async run(): Promise<void> {
    this.breakerOpen = false;
    for (;;) {
      const holdMs = this.breakerOpen ? 0 : await this.start();
      if (this.inFlight.size === 0 && holdMs === 0) return;
      const woken = new Promise<void>((resolve) => {
        this.wake = resolve;
      });
      if (holdMs > 0) this.wakeIn(holdMs);
      await Promise.race([woken, ...[...this.inFlight.values()].map((f) => f.done)]);
      this.wake = null;
    }
  }

  /** Wakes the run when the next delivery may start (one timer, not one per acknowledgement). */
  private wakeIn(ms: number): void {
    if (this.holdTimer) return;
    this.holdTimer = setTimeout(() => {
      this.holdTimer = undefined;
      this.wake?.();
    }, ms).unref();
  }

  /**
   * Starts what may start now, in the inbox's order; answers how long to wait (ms) before more
   * may start while senders press, or 0.
   */
  private async start(): Promise<number> {
    const pressed = this.o.pressure?.pressed() ?? false;
    if (pressed && this.lastStart + TRICKLE_MS > Date.now()) return this.lastStart + TRICKLE_MS - Date.now();
    const limit = pressed ? WHILE_PRESSED : (this.o.concurrency ?? INBOX_CONCURRENCY);
    if (this.inFlight.size >= limit || this.isBarrierRunning()) return 0;
    const taken = new Set([...this.inFlight.values()].map((f) => f.key));
    let heldBack = false;
    for (const delivery of await this.o.inbox.dueHeads('github', limit + this.inFlight.size)) {
      if (this.inFlight.has(delivery.deliveryId)) continue;
      const key = await this.keyOf(delivery);
      if (key === null) {
        // Alone: once everything before it is done.
        if (this.inFlight.size === 0 && !heldBack) await this.begin(delivery, null);
        return 0;
      }
      if (taken.has(key)) {
        heldBack = true;
        continue;
      }
      taken.add(key);
      await this.begin(delivery, key);
      if (this.inFlight.size >= limit) return 0;
    }
    return 0;
  }

  /** The PR a delivery concerns (its events keep their order), or null: an event that runs alone. */
  private async keyOf({ deliveryId, event }: DueDelivery): Promise<string | null> {
    if (!PER_PULL_REQUEST.has(event)) return null;
    if (!this.keys.has(deliveryId)) {
      if (this.keys.size > 10_000) this.keys.clear(); // only a cache: read again when needed
      this.keys.set(deliveryId, await this.o.inbox.pullRequestOf(deliveryId));
    }
    return this.keys.get(deliveryId) ?? null;
  }

  private isBarrierRunning(): boolean {
    for (const f of this.inFlight.values()) if (f.key === null) return true;
    return false;
  }

  private async begin(due: DueDelivery, key: string | null): Promise<void> {
    // The same work asked for again while this waited: done once, for the newest delivery.
    const delivery = await this.o.inbox.take(due.deliveryId);
    if (!delivery) return;
    this.lastStart = Date.now();
    const done = this.process(delivery).finally(() => {
      this.inFlight.delete(delivery.deliveryId);
      this.keys.delete(delivery.deliveryId);
    });
    this.inFlight.set(delivery.deliveryId, { seq: delivery.seq, key, done });
  }

  private async process(delivery: InboxDelivery): Promise<void> {
    const { inbox, probot, breaker, logger } = this.o;
    // Yields first, so a delivery is in flight (and its seq known) before its handler runs.
    await Promise.resolve();
    try {
      await breaker.execute(() =>
        probot.receive({ id: delivery.deliveryId, name: delivery.event, payload: delivery.payload } as never),
      );
      await inbox.markDone(delivery.deliveryId);
    } catch (error) {
      const cause = unwrap(error);
      if (isTransient(cause)) {
        const at = retryAt(cause, delivery.attempts + 1, Date.now(), this.o.retry);
        await inbox.markRetry(delivery.deliveryId, describe(cause), at);
        const about = { deliveryId: delivery.deliveryId, event: delivery.event, retryAt: at.toISOString() };
        if (fromGithub(cause))
          logger.warn(
            { ...about, err: describe(cause) },
            'GitHub unavailable; delivery will be processed again',
          );
        // Not GitHub's answer: the state store, the ledger, or a fault of ours, with what to debug it by.
        else logger.error({ ...about, err: cause }, 'delivery failed; it will be processed again');
        // The rest waits for the breaker to close (the next run).
        if (cause instanceof BrokenCircuitError) this.breakerOpen = true;
      } else if (isRefusedInput(cause)) {
        // The delivery itself cannot be recorded: kept with the reason, never processed again.
        const reason = refusalOf(cause);
        await inbox.markFailed(delivery.deliveryId, reason);
        logger.error(
          { deliveryId: delivery.deliveryId, event: delivery.event, err: reason },
          'delivery refused: it cannot be recorded',
        );
      } else {
        await inbox.markFailed(delivery.deliveryId, describe(cause));
        logger.error({ deliveryId: delivery.deliveryId, err: cause }, 'delivery could not be processed');
      }
    }
  }
}

/** Whether an error is GitHub's answer (a status) or its breaker's, rather than a failure of our own. */
function fromGithub(error: unknown): boolean {
  return error instanceof BrokenCircuitError || typeof (error as { status?: unknown })?.status === 'number';
}

/** Why our own checks refused a delivery, in one line: a schema's first issue, or the message. */
function refusalOf(error: unknown): string {
  const issue = (error as { issues?: { path: (string | number)[]; message: string }[] }).issues?.[0];
  return issue ? `${issue.path.join('.') || 'value'}: ${issue.message}` : describe(error);
}
