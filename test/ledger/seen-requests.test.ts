/**
 * Signed requests seen, on both engines: the de-duplication two replicas share (the table's
 * primary key decides), and expiry.
 */
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AsyncLedger } from '../../src/ledger/async-ledger.js';
import { openLedger } from '../../src/ledger/ledger.js';
import { openPostgresLedger } from '../../src/ledger/postgres/postgres-ledger.js';
import { seenRequestsIn, seenRequestsOf } from '../../src/ledger/seen-requests.js';
import { SqliteAsyncLedger } from '../../src/ledger/sqlite-async-ledger.js';
import { tempDir } from '../helpers/agov.js';
import { PrivatePostgres } from '../helpers/postgres-server.js';

let server: PrivatePostgres;
beforeAll(async () => {
  server = await PrivatePostgres.start();
});
afterAll(async () => {
  await server?.stop();
});

/** A way to open replicas of one fresh ledger database. */
const engines: Array<[string, () => Promise<() => Promise<AsyncLedger>>]> = [
  [
    'sqlite',
    async () => {
      const path = join(tempDir(), 'ledger.db');
      return async () => new SqliteAsyncLedger(openLedger(path));
    },
  ],
  [
    'postgres',
    async () => {
      const url = await server.createDatabase();
      return () => openPostgresLedger(url);
    },
  ],
];

const NOW = 1_800_000_000;

describe.each(engines)('seen requests: %s', (_engine, fresh) => {
  let a: AsyncLedger;
  let b: AsyncLedger;
  beforeEach(async () => {
    const replica = await fresh();
    a = await replica();
    b = await replica();
  });
  afterEach(async () => {
    await a?.close();
    await b?.close();
  });

  it('the same request seen by two replicas at once is accepted exactly once', async () => {
    const [onA, onB] = [seenRequestsOf(a), seenRequestsOf(b)];
    for (let round = 0; round < 5; round++) {
      const sights = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          (i % 2 ? onA : onB).firstSight(`v0=sig-${round}`, NOW + 300, NOW),
        ),
      );
      expect(sights.filter(Boolean)).toHaveLength(1);
    }
    expect(await onB.seen('v0=sig-3', NOW)).toBe(true);
    expect(await onB.seen('v0=never', NOW)).toBe(false);
  });

  it('a request is refused until it expires, then accepted again; seen() writes nothing', async () => {
    const [onA, onB] = [seenRequestsOf(a), seenRequestsOf(b)];
    expect(await onA.seen('session:s1', NOW)).toBe(false);
    expect(await onA.firstSight('session:s1', NOW + 60, NOW)).toBe(true);
    expect(await onB.firstSight('session:s1', NOW + 600, NOW + 59)).toBe(false);
    expect(await onB.seen('session:s1', NOW + 59)).toBe(true);
    expect(await onB.seen('session:s1', NOW + 60)).toBe(false);
    expect(await onB.firstSight('session:s1', NOW + 120, NOW + 60)).toBe(true);
    expect(await onA.firstSight('session:s1', NOW + 120, NOW + 119)).toBe(false);
  });
});

it('on SQLite the synchronous form and the asynchronous one share what was seen', async () => {
  const path = join(tempDir(), 'ledger.db');
  const ledger = openLedger(path);
  const store = new SqliteAsyncLedger(openLedger(path));
  try {
    expect(await seenRequestsOf(store).firstSight('v0=shared', NOW + 300, NOW)).toBe(true);
    expect(seenRequestsIn(ledger).firstSight('v0=shared', NOW + 300, NOW)).toBe(false);
    expect(seenRequestsIn(ledger).firstSight('v0=other', NOW + 300, NOW)).toBe(true);
    expect(await seenRequestsOf(store).seen('v0=other', NOW)).toBe(true);
  } finally {
    ledger.close();
    await store.close();
  }
});
