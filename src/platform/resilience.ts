/**
 * One way to call an outside service: a circuit breaker per dependency and exponential backoff
 * with jitter for the retries the outbox and inbox schedule. Built on cockatiel; nothing here is a
 * hand-written breaker.
 */
import {
  BrokenCircuitError,
  type CircuitBreakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  ExponentialBackoff,
  handleWhen,
} from 'cockatiel';

import { isUserError } from './errors.js';

export { BrokenCircuitError, CircuitState };

export interface HttpLikeError {
  status?: number;
  response?: { headers?: Record<string, string | number | undefined> };
  code?: string;
}

/**
 * Worth retrying: the service is down, overloaded or rate-limiting us, or the network failed. Not
 * an input our own checks refused: the same input is refused again.
 */
export function isTransient(error: unknown): boolean {
  // Probot wraps a handler's errors; the first one is what happened.
  if (error instanceof AggregateError && error.errors.length > 0) return isTransient(error.errors[0]);
  if (error instanceof BrokenCircuitError) return true;
  if (isRefusedInput(error)) return false;
  const e = error as HttpLikeError;
  if (typeof e?.status === 'number') {
    if (e.status >= 500 || e.status === 429 || e.status === 408) return true;
    if (e.status === 403) return isRateLimited(e);
    return false;
  }
  return true; // no HTTP status: a network error or a timeout
}

/**
 * An input our own checks refused (the ledger's entry schema, a zod schema): nothing the outside
 * service did, and retrying the same input cannot help.
 */
export function isRefusedInput(error: unknown): boolean {
  if (isUserError(error)) return error.code === 'ledger_bad_entry';
  return error instanceof Error && error.name === 'ZodError';
}

function isRateLimited(e: HttpLikeError): boolean {
  const headers = e.response?.headers ?? {};
  return headers['retry-after'] !== undefined || String(headers['x-ratelimit-remaining'] ?? '') === '0';
}

/** How long the service asked us to wait (Retry-After, or GitHub's rate limit reset), in ms. */
export function requestedDelayMs(error: unknown, now: number): number | null {
  const headers = (error as HttpLikeError)?.response?.headers ?? {};
  const retryAfter = headers['retry-after'];
  if (retryAfter !== undefined && Number.isFinite(Number(retryAfter))) return Number(retryAfter) * 1000;
  const reset = headers['x-ratelimit-reset'];
  if (String(headers['x-ratelimit-remaining'] ?? '') === '0' && reset !== undefined) {
    return Math.max(0, Number(reset) * 1000 - now);
  }
  return null;
}

export function createBreaker(options: {
  halfOpenAfterMs: number;
  consecutiveFailures: number;
}): CircuitBreakerPolicy {
  return circuitBreaker(handleWhen(isTransient), {
    halfOpenAfter: options.halfOpenAfterMs,
    breaker: new ConsecutiveBreaker(options.consecutiveFailures),
  });
}

/** The delay before attempt `attempt` (1-based) of a retry: exponential, capped, with jitter. */
export function backoffDelayMs(attempt: number, options: { initialMs: number; maxMs: number }): number {
  let backoff = new ExponentialBackoff({ initialDelay: options.initialMs, maxDelay: options.maxMs }).next();
  for (let i = 1; i < attempt; i++) backoff = backoff.next(undefined);
  return backoff.duration;
}

/** When to try again after `error`: what the service asked for, else backoff; never past `maxMs`. */
export function retryAt(
  error: unknown,
  attempt: number,
  now: number,
  options: { initialMs: number; maxMs: number },
): Date {
  const asked = requestedDelayMs(error, now);
  const delay = Math.min(asked ?? backoffDelayMs(attempt, options), options.maxMs * 15);
  return new Date(now + delay);
}
