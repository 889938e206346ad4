/**
 * Acknowledgements go first (issue 14): the inbox worker holds decisions back to a trickle while
 * senders press, and only then. Pressure is what the senders see, the requests waiting for their
 * answers, on a fake clock here.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WebhookPressure } from '../../src/github/webhook-pressure.js';

beforeEach(() => vi.useFakeTimers({ toFake: ['performance'] }));
afterEach(() => vi.useRealTimers());

function hold(pressure: WebhookPressure, open: number, ms: number) {
  for (let i = 0; i < open; i++) pressure.begin();
  vi.advanceTimersByTime(ms);
  for (let i = 0; i < open; i++) pressure.end();
}

describe('webhook pressure', () => {
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
    for (let i = 0; i < 20; i++) pressure.begin();
    vi.advanceTimersByTime(150);
    expect(pressure.pressed()).toBe(true);
    for (let i = 0; i < 20; i++) pressure.end();
    vi.advanceTimersByTime(250);
    expect(pressure.pressed()).toBe(false);
  });

  it('once pressed, stays pressed while the answers keep up with a flood: no flapping at the threshold', () => {
    const pressure = new WebhookPressure();
    for (let round = 0; round < 3; round++) hold(pressure, 10, 100);
    expect(pressure.pressed()).toBe(true);
    // Answered faster now that decisions wait: 4 open on average, not enough to start pressing.
    for (let round = 0; round < 3; round++) hold(pressure, 4, 100);
    expect(pressure.pressed()).toBe(true);
    expect(new WebhookPressure().pressed()).toBe(false);
    const fresh = new WebhookPressure();
    for (let round = 0; round < 3; round++) hold(fresh, 4, 100);
    expect(fresh.pressed()).toBe(false);
  });

  it('slow answers press at a low rate too: the rate falls as the answers slow down', () => {
    const pressure = new WebhookPressure();
    // 20 senders answered after 80 ms each: 250 a second, each waiting.
    for (let round = 0; round < 5; round++) hold(pressure, 20, 80);
    expect(pressure.pressed()).toBe(true);
  });
});
