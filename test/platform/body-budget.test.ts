/**
 * Which body read gives way when the unsigned-body budget is full (attack 14 F1): the slowest read
 * past its grace, else the oldest, never the one asking. On the budget's own clock, set by hand.
 */
import { expect, it } from 'vitest';
import { BodyBudget } from '../../src/platform/read-body.js';

function budget(maxBytes: number, maxReads: number) {
  let clock = 0;
  const cut: string[] = [];
  const b = new BodyBudget(maxBytes, maxReads, { graceMs: 1000 }, () => clock);
  const begin = (name: string) => b.begin(() => cut.push(name));
  return { b, cut, begin, at: (ms: number) => (clock = ms) };
}

it('a new read evicts the slowest read past its grace, not an older fast one', () => {
  const { b, cut, begin, at } = budget(1_000_000, 2);
  const fast = begin('fast');
  const slow = begin('slow');
  b.grow(fast, 200_000);
  b.grow(slow, 5);
  at(1500);
  begin('new');
  expect(cut).toEqual(['slow']);
  // What the cut read held is released at once, whatever its caller does.
  expect(b.readsInProgress).toBe(2);
  expect(b.reservedBytes).toBe(200_000);
});

it('when every read is within its grace, the oldest gives way', () => {
  const { cut, begin, at } = budget(1_000_000, 2);
  begin('first');
  at(10);
  begin('second');
  at(20);
  begin('third');
  expect(cut).toEqual(['first']);
});

it('bytes past the budget evict another read, never the one growing; false only when nothing can give way', () => {
  const { b, cut, begin, at } = budget(1000, 10);
  const held = begin('held');
  expect(b.grow(held, 900)).toBe(true);
  at(2000);
  const growing = begin('growing');
  expect(b.grow(growing, 500)).toBe(true);
  expect(cut).toEqual(['held']);
  expect(b.reservedBytes).toBe(500);
  expect(b.grow(growing, 600)).toBe(false);
  b.end(growing);
  expect(b.reservedBytes).toBe(0);
});
