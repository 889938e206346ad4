import { describe, expect, it } from 'vitest';
import { type LockEvent, locksToRestore } from '../../src/core/execution-locks.js';

const at = (s: number) => new Date(Date.UTC(2026, 10, 27, 6, 0, s)).toISOString();
const event = (
  s: number,
  agentId: string,
  op: LockEvent['payload']['op'],
  token: number | null,
  extra: Partial<LockEvent['payload']> = {},
): LockEvent => ({ ts: at(s), agentId, payload: { op, lockKey: 'acme/web', token, detail: '', ...extra } });

describe('locks a rebuilt state store restores', () => {
  it('reads the TTL as a number, and from the text of entries written before it was recorded', () => {
    const now = Date.parse(at(30));
    expect(locksToRestore([event(0, 'alpha', 'acquired', 1, { ttlSeconds: 60 })], now)).toEqual([
      { lockKey: 'acme/web', holder: 'alpha', token: 1, ttlMs: 30_000 },
    ]);
    expect(locksToRestore([event(0, 'alpha', 'acquired', 1, { detail: 'for 45 s' })], now)).toEqual([
      { lockKey: 'acme/web', holder: 'alpha', token: 1, ttlMs: 15_000 },
    ]);
  });

  it('an extension by the holder moves the deadline; a release with another token frees nothing', () => {
    const history = [
      event(0, 'alpha', 'acquired', 7, { ttlSeconds: 10 }),
      event(8, 'alpha', 'extended', 7, { ttlSeconds: 60 }),
      event(9, 'beta', 'released', 6),
    ];
    expect(locksToRestore(history, Date.parse(at(20)))).toEqual([
      { lockKey: 'acme/web', holder: 'alpha', token: 7, ttlMs: 48_000 },
    ]);
  });

  it('a released or lapsed lock is free, and its highest token survives so none is handed out again', () => {
    const released = [event(0, 'alpha', 'acquired', 3, { ttlSeconds: 60 }), event(5, 'alpha', 'released', 3)];
    expect(locksToRestore(released, Date.parse(at(6)))).toEqual([
      { lockKey: 'acme/web', holder: null, token: 3, ttlMs: 0 },
    ]);
    const lapsed = [event(0, 'alpha', 'acquired', 4, { ttlSeconds: 1 })];
    expect(locksToRestore(lapsed, Date.parse(at(30)))[0]).toMatchObject({ token: 4, ttlMs: 0 });
  });

  it('a grant recorded lost was never held: the same token granted to another stays held, whatever the order', () => {
    const betaFirst = [
      event(0, 'beta', 'acquired', 7, { ttlSeconds: 60 }),
      event(1, 'alpha', 'acquired', 7, { ttlSeconds: 60 }),
      event(1, 'alpha', 'lost', 7),
    ];
    const alphaFirst = [betaFirst[1]!, betaFirst[2]!, betaFirst[0]!];
    for (const history of [betaFirst, alphaFirst])
      expect(locksToRestore(history, Date.parse(at(10)))).toEqual([
        { lockKey: 'acme/web', holder: 'beta', token: 7, ttlMs: 50_000 },
      ]);
  });

  it("a release or expiry with the holder's token by another agent frees nothing", () => {
    const history = [
      event(0, 'beta', 'acquired', 7, { ttlSeconds: 60 }),
      event(2, 'alpha', 'released', 7),
      event(3, 'alpha', 'expired', 7),
      event(4, 'alpha', 'extended', 7, { ttlSeconds: 600 }),
    ];
    expect(locksToRestore(history, Date.parse(at(10)))).toEqual([
      { lockKey: 'acme/web', holder: 'beta', token: 7, ttlMs: 50_000 },
    ]);
  });

  it("a lost grant and the same agent's own grant with the same token (a retry) are told apart by their grant", () => {
    const history = [
      event(0, 'alpha', 'acquired', 7, { ttlSeconds: 60, grant: 'alpha:1:a' }),
      event(1, 'alpha', 'acquired', 7, { ttlSeconds: 60, grant: 'alpha:2:b' }),
      event(1, 'alpha', 'lost', 7, { grant: 'alpha:1:a' }),
    ];
    expect(locksToRestore(history, Date.parse(at(10)))).toEqual([
      { lockKey: 'acme/web', holder: 'alpha', grant: 'alpha:2:b', token: 7, ttlMs: 51_000 },
    ]);
  });
});
