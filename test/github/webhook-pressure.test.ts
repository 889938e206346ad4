/**
 * Acknowledgements go first (issue 14): the inbox worker holds decisions back to a trickle while
 * senders press, and only then. Pressure is what the senders see, the requests waiting for their
 * answers, on a fake clock here.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WebhookPressure } from '../../src/github/webhook-pressure.js';

beforeEach(() => vi.useFakeTimers({ toFake: ['performance'] }));
afterEach(() => vi.useRealTimers());

/** `open` requests held for `ms`, then answered: stored deliveries, or refusals. */
function hold(pressure: WebhookPressure, open: number, ms: number, stored = true) {
  for (let i = 0; i < open; i++) pressure.begin();
  vi.advanceTimersByTime(ms);
  for (let i = 0; i < open; i++) {
    if (stored) pressure.stored();
    pressure.end();
  }
}

describe('webhook pressure', () => {
  it('a flood of refused requests (no secret, replayed deliveries) is not pressure', () => {
    const pressure = new WebhookPressure();
    for (let round = 0; round < 40; round++) hold(pressure, 20, 5, false);
    expect(pressure.pressed()).toBe(false);
  });

  it('a burst of ten answered at once is not pressure, at 200 a second', () => {
    const pressure = new WebhookPressure();
    for (let burst = 0; burst < 40; burst++) {
      hold(pressure, 10, 3);
      expect(pressure.pressed()).toBe(false);
      vi.advanceTimersByTime(47);
    }
  });

  it('twenty senders whose answers wait press, and stop pressing once they stop', () => {
    const pressure = new WebhookPressure();
    // Answered after 5 ms each: 4,000 a second, 20 open.
    for (let round = 0; round < 40; round++) hold(pressure, 20, 5);
    expect(pressure.pressed()).toBe(true);
    vi.advanceTimersByTime(250);
    expect(pressure.pressed()).toBe(false);
  });

  it('once pressed, stays pressed while the answers keep up with a flood: no flapping at the threshold', () => {
    const pressure = new WebhookPressure();
    for (let round = 0; round < 100; round++) hold(pressure, 10, 2);
    expect(pressure.pressed()).toBe(true);
    // Answered faster now that decisions wait: 4 open on average, not enough to start pressing.
    for (let round = 0; round < 300; round++) hold(pressure, 4, 1);
    expect(pressure.pressed()).toBe(true);
    const fresh = new WebhookPressure();
    for (let round = 0; round < 300; round++) hold(fresh, 4, 1);
    expect(fresh.pressed()).toBe(false);
  });

  it('slow answers press while the rate is above a busy installation’s: it falls as they slow down', () => {
    const pressure = new WebhookPressure();
    // 20 senders answered after 50 ms each: 400 a second, each waiting.
    for (let round = 0; round < 5; round++) hold(pressure, 20, 50);
    expect(pressure.pressed()).toBe(true);
  });

  it('200 a second answered slowly (a machine short of CPU) is not pressure: decisions keep up', () => {
    const pressure = new WebhookPressure();
    // 10 waiting 50 ms each, every 50 ms: 200 a second, 10 open on average.
    for (let round = 0; round < 10; round++) hold(pressure, 10, 50);
    expect(pressure.pressed()).toBe(false);
  });
});
