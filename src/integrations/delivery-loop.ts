/**
 * The one loop that makes the calls waiting in the outbox, for every target (GitHub, Slack,
 * Vault): it claims the due messages in order per ordering key (a claim with a lease, so replicas
 * sharing the outbox never make the same call at once, and a replica that dies has its claims
 * taken over), parses each for its kind, delivers it through the target's deliverer behind the
 * target's breaker, and records the outcome — the message marked delivered together with whatever
 * the delivery establishes (a revocation effect), in one ledger transaction — or schedules a retry
 * with backoff.
 */
import type { CircuitBreakerPolicy } from 'cockatiel';
import type { AsyncLedger, DecideEntries, OutboxClaimOptions } from '../ledger/async-ledger.js';
import type { OutboxMessage, OutboxTarget } from '../ledger/outbox.js';
import { processClaimer } from '../platform/claimer.js';
import type { Logger } from '../platform/logger.js';
import { Pump } from '../platform/pump.js';
import { BrokenCircuitError, isTransient, retryAt } from '../platform/resilience.js';
import { parseOutboxMessage, type TypedOutboxMessage, UnreadableOutboxMessage } from './outbox-messages.js';

export interface DeliveryOutcome {
  /** Other pending messages this one delivery stood for (identical alerts sent as one). */
  alsoDelivered?: number[];
  /**
   * What the delivery establishes (a revocation effect that now holds), decided from the ledger and
   * appended in the transaction that marks the message delivered.
   */
  effect?: DecideEntries;
}

export interface Deliverer {
  target: OutboxTarget;
  /** Absent when the client already guards each call with the target's breaker (Vault's does). */
  breaker?: CircuitBreakerPolicy;
  retry: { initialMs: number; maxMs: number };
  /** Messages whose ordering key starts with this go out before every other message (alerts). */
  lane?: string;
  /**
   * Calls made at once, each with another ordering key (default 1: one after another). A key's
   * messages still go out one at a time, in order.
   */
  parallel?: number;
  deliver(message: TypedOutboxMessage): Promise<DeliveryOutcome | undefined>;
  /** Until when a message must wait, and why (a low rate limit kept for gates), or null to send it now. */
  holdUntil?(message: TypedOutboxMessage): { until: Date; reason: string } | null;
  /** Recorded when a message first fails (a revocation effect that does not hold yet). */
  onFirstFailure?(message: TypedOutboxMessage, error: unknown): Promise<void> | void;
  /** The error in the HTTP terms retry timing reads (status, Retry-After), when the client reports it otherwise. */
  asHttpError?(error: unknown): unknown;
}

export interface DeliveryLoopOptions {
  /** "Now" in milliseconds (retry timing). */
  now?: () => number;
  intervalMs?: number;
  /**
   * Who claims: the same name for every start of the same replica, so that a restart gives back
   * what it held before (default: a name of this process's own).
   */
  claimer?: string;
  /**
   * How long a claim holds before another replica may take the message over (default 5 minutes:
   * longer than a run's calls take, each bounded by its client's timeout and the breaker).
   */
  leaseMs?: number;
}

/** Calls per run at most, so that one run cannot hold the loop for ever. */
const BATCH = 100;
/** A call refused this many times (a 4xx, a malformed message) is marked failed, not retried. */
export const REFUSALS_BEFORE_FAILED = 5;
const LANE_BATCH = 20;

/** A bug or a malformed message, not the network: retrying the same call cannot help. */
function isProgrammingError(error: unknown): boolean {
  return error instanceof TypeError || error instanceof RangeError || error instanceof SyntaxError;
}

export class DeliveryLoop {
  readonly pump: Pump;
  readonly claimer: string;
  private readonly leaseMs: number;
  private readonly now: () => number;
  /** Runs one after another, whoever asks (the pump, a test, a shutdown): a message is never sent twice at once. */
  private running: Promise<void> = Promise.resolve();
  /**
   * Whether this claimer may still hold claims no run is working on: at start (what it held before
   * a restart), and after a run that failed (the ledger went away between a call and its mark).
   * The next run gives them back first, at once, not after the lease.
   */
  private orphans = true;

  constructor(
    private readonly store: AsyncLedger,
    private readonly deliverer: Deliverer,
    private readonly logger: Logger,
    options: DeliveryLoopOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.leaseMs = options.leaseMs ?? 300_000;
    this.claimer = options.claimer ?? processClaimer();
    this.pump = new Pump(
      () => this.run(),
      options.intervalMs ?? 2000,
      (e) => logger.error({ err: e, target: deliverer.target }, 'outbox delivery failed; will retry'),
    );
  }

  /** Delivers every due message once (the lane first, and again before each other message). */
  run(): Promise<void> {
    const next = this.running.then(() => this.runOnce());
    this.running = next.catch(() => {
      this.orphans = true;
    });
    return next;
  }

  private claim(limit: number, lane?: OutboxClaimOptions['lane']): Promise<OutboxMessage[]> {
    const options = { claimer: this.claimer, leaseMs: this.leaseMs, limit };
    return this.store.outbox.claim(this.deliverer.target, lane ? { ...options, lane } : options);
  }

  private async runOnce(): Promise<void> {
    const { lane } = this.deliverer;
    const parallel = Math.max(1, this.deliverer.parallel ?? 1);
    // Runs never overlap: nothing this claimer holds is being delivered now.
    if (this.orphans) {
      await this.store.outbox.release(this.claimer);
      this.orphans = false;
    }
    if (!(await this.deliverLane())) return;
    // The oldest due message of each ordering key: any of them may go out beside the others.
    const due = await this.claim(BATCH, lane ? { prefix: lane, inside: false } : undefined);
    let next = 0;
    try {
      for (; next < due.length; ) {
        if (next > 0 && !(await this.deliverLane())) return;
        const chunk = due.slice(next, next + parallel);
        next += chunk.length;
        const sent = await Promise.all(chunk.map((m) => this.deliverOne(m)));
        if (sent.includes(false)) return;
      }
    } finally {
      // Claimed and not tried (the breaker opened, a lane call stopped the run): free at once.
      const untried = due.slice(next).map((m) => m.id);
      if (untried.length > 0) await this.store.outbox.release(this.claimer, untried);
    }
  }

  /** False when the breaker stopped delivery. */
  private async deliverLane(): Promise<boolean> {
    const { lane } = this.deliverer;
    if (!lane) return true;
    for (let i = 0; i < LANE_BATCH; i++) {
      const [message] = await this.claim(1, { prefix: lane, inside: true });
      if (!message) return true;
      if (!(await this.deliverOne(message))) return false;
    }
    return true;
  }

  /** One message; false when the breaker is open (the rest waits for it to close). */
  private async deliverOne(raw: OutboxMessage): Promise<boolean> {
    const { outbox } = this.store;
    const { claimer } = this;
    let message: TypedOutboxMessage;
    try {
      message = parseOutboxMessage(raw);
    } catch (error) {
      if (!(error instanceof UnreadableOutboxMessage)) throw error;
      await outbox.fail(raw.id, claimer, error.message);
      this.logger.error({ outboxId: raw.id, kind: raw.kind }, error.message);
      return true;
    }
    const hold = this.deliverer.holdUntil?.(message);
    if (hold) {
      await outbox.retry(message.id, claimer, hold.reason, hold.until);
      return true;
    }
    try {
      const { breaker } = this.deliverer;
      const deliver = () => this.deliverer.deliver(message);
      const outcome = await (breaker ? breaker.execute(deliver) : deliver());
      const also = outcome?.alsoDelivered ?? [];
      // What the delivery established is recorded with its mark, whoever holds the claim now.
      if (outcome?.effect)
        await this.store.appendDecided(outcome.effect, { delivered: [message.id, ...also] });
      else if (!(await outbox.complete(message.id, claimer, also)))
        this.logger.warn(
          { outboxId: message.id, kind: message.kind, target: this.deliverer.target },
          'delivered a call whose claim another replica had taken over (its lease ran out)',
        );
      return true;
    } catch (error) {
      // Not delivered, or delivered without its record: tried again (its calls are idempotent).
      await this.failed(message, error);
      return !(unwrap(error) instanceof BrokenCircuitError);
    }
  }

  private async failed(message: TypedOutboxMessage, error: unknown): Promise<void> {
    const { outbox } = this.store;
    const cause = unwrap(error);
    const asHttp = this.deliverer.asHttpError?.(cause) ?? cause;
    const refused = !isTransient(asHttp) || isProgrammingError(cause);
    if (refused && message.attempts + 1 >= REFUSALS_BEFORE_FAILED) {
      // Refused for good: kept with the reason, no longer holding back its ordering key.
      await outbox.fail(
        message.id,
        this.claimer,
        `refused ${message.attempts + 1} times: ${describe(cause)}`,
      );
    } else {
      const at = retryAt(asHttp, message.attempts + 1, this.now(), this.deliverer.retry);
      await outbox.retry(message.id, this.claimer, describe(cause), at);
    }
    if (message.attempts === 0) await this.deliverer.onFirstFailure?.(message, cause);
    if (refused)
      this.logger.error(
        { outboxId: message.id, kind: message.kind, err: describe(cause) },
        `${this.deliverer.target} refused a call`,
      );
  }
}

/** Probot wraps handler errors in an AggregateError; the first one is what happened. */
export function unwrap(error: unknown): unknown {
  if (error instanceof AggregateError && error.errors.length > 0) return unwrap(error.errors[0]);
  return error;
}

export function describe(error: unknown): string {
  const e = error as { status?: number; message?: string; data?: { error?: string } };
  if (e?.data?.error) return e.data.error;
  return e?.status ? `HTTP ${e.status}: ${e.message ?? ''}` : String(e?.message ?? error);
}
