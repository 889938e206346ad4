/**
 * The one loop that makes the calls waiting in the outbox, for every target (GitHub, Slack,
 * Vault): it claims the due messages in order per ordering key, parses each for its kind, delivers
 * it through the target's deliverer behind the target's breaker, and records the outcome — the
 * message marked delivered together with whatever the delivery establishes (a revocation effect),
 * in one ledger transaction — or schedules a retry with backoff.
 */
import type { CircuitBreakerPolicy } from 'cockatiel';
import type { Ledger } from '../ledger/ledger.js';
import type { OutboxMessage, OutboxTarget } from '../ledger/outbox.js';
import type { Logger } from '../platform/logger.js';
import { Pump } from '../platform/pump.js';
import { BrokenCircuitError, isTransient, retryAt } from '../platform/resilience.js';
import { parseOutboxMessage, type TypedOutboxMessage, UnreadableOutboxMessage } from './outbox-messages.js';

export interface DeliveryOutcome {
  /** Other pending messages this one delivery stood for (identical alerts sent as one). */
  alsoDelivered?: number[];
  /** Recorded in the transaction that marks the message delivered (a revocation effect that now holds). */
  record?: () => void;
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
  onFirstFailure?(message: TypedOutboxMessage, error: unknown): void;
  /** The error in the HTTP terms retry timing reads (status, Retry-After), when the client reports it otherwise. */
  asHttpError?(error: unknown): unknown;
}

const BATCH = 100;
/** A call refused this many times (a 4xx, a malformed message) is marked failed, not retried. */
export const REFUSALS_BEFORE_FAILED = 5;

/** A bug or a malformed message, not the network: retrying the same call cannot help. */
function isProgrammingError(error: unknown): boolean {
  return error instanceof TypeError || error instanceof RangeError || error instanceof SyntaxError;
}
const LANE_BATCH = 20;

export class DeliveryLoop {
  readonly pump: Pump;
  /** Runs one after another, whoever asks (the pump, a test, a shutdown): a message is never sent twice at once. */
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly ledger: Ledger,
    private readonly deliverer: Deliverer,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
    intervalMs = 2000,
  ) {
    this.pump = new Pump(
      () => this.run(),
      intervalMs,
      (e) => logger.error({ err: e, target: deliverer.target }, 'outbox delivery failed; will retry'),
    );
  }

  /** Delivers every due message once (the lane first, and again before each other message). */
  run(): Promise<void> {
    const next = this.running.then(() => this.runOnce());
    this.running = next.catch(() => undefined);
    return next;
  }

  private async runOnce(): Promise<void> {
    const { outbox } = this.ledger;
    const { target, lane } = this.deliverer;
    const parallel = Math.max(1, this.deliverer.parallel ?? 1);
    if (!(await this.deliverLane())) return;
    // The oldest due message of each ordering key: any of them may go out beside the others.
    const due = outbox.dueFor(target, BATCH).filter((m) => !(lane && m.orderingKey.startsWith(lane)));
    for (let i = 0; i < due.length; i += parallel) {
      if (!(await this.deliverLane())) return;
      const sent = await Promise.all(due.slice(i, i + parallel).map((m) => this.deliverOne(m)));
      if (sent.includes(false)) return;
    }
  }

  /** False when the breaker stopped delivery. */
  private async deliverLane(): Promise<boolean> {
    const { target, lane } = this.deliverer;
    if (!lane) return true;
    for (const message of this.ledger.outbox.dueInLane(target, lane, LANE_BATCH)) {
      if (!(await this.deliverOne(message))) return false;
    }
    return true;
  }

  /** One message; false when the breaker is open (the rest waits for it to close). */
  private async deliverOne(raw: OutboxMessage): Promise<boolean> {
    const { outbox } = this.ledger;
    let message: TypedOutboxMessage;
    try {
      message = parseOutboxMessage(raw);
    } catch (error) {
      if (!(error instanceof UnreadableOutboxMessage)) throw error;
      outbox.markFailed(raw.id, error.message);
      this.logger.error({ outboxId: raw.id, kind: raw.kind }, error.message);
      return true;
    }
    const hold = this.deliverer.holdUntil?.(message);
    if (hold) {
      outbox.markRetry(message.id, hold.reason, hold.until);
      return true;
    }
    try {
      const { breaker } = this.deliverer;
      const deliver = () => this.deliverer.deliver(message);
      const outcome = await (breaker ? breaker.execute(deliver) : deliver());
      this.ledger.atomically(() => {
        outbox.markDelivered(message.id);
        for (const id of outcome?.alsoDelivered ?? []) outbox.markDelivered(id);
        outcome?.record?.();
      });
      return true;
    } catch (error) {
      const cause = unwrap(error);
      const asHttp = this.deliverer.asHttpError?.(cause) ?? cause;
      const refused = !isTransient(asHttp) || isProgrammingError(cause);
      if (refused && message.attempts + 1 >= REFUSALS_BEFORE_FAILED) {
        // Refused for good: kept with the reason, no longer holding back its ordering key.
        outbox.markFailed(message.id, `refused ${message.attempts + 1} times: ${describe(cause)}`);
      } else {
        outbox.markRetry(
          message.id,
          describe(cause),
          retryAt(asHttp, message.attempts + 1, this.now(), this.deliverer.retry),
        );
      }
      if (message.attempts === 0) this.deliverer.onFirstFailure?.(message, cause);
      if (refused)
        this.logger.error(
          { outboxId: message.id, kind: message.kind, err: describe(cause) },
          `${this.deliverer.target} refused a call`,
        );
      return !(cause instanceof BrokenCircuitError);
    }
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
