/**
 * Checkpoints through the asynchronous ledger, on both engines: what the service creates on a
 * schedule and restores the state store from. Hostile cases first: another key, two replicas at once.
 */
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AsyncLedger } from '../../src/ledger/async-ledger.js';
import { openLedger } from '../../src/ledger/ledger.js';
import { openPostgresLedger, type PostgresLedger } from '../../src/ledger/postgres/postgres-ledger.js';
import { loadSigningKey, type SigningKey } from '../../src/ledger/signing-key.js';
import { SqliteAsyncLedger } from '../../src/ledger/sqlite-async-ledger.js';
import { StoreCheckpoints } from '../../src/ledger/store-checkpoints.js';
import { verifyLedger } from '../../src/ledger/verify.js';
import { tempDir } from '../helpers/agov.js';
import { PrivatePostgres } from '../helpers/postgres-server.js';

let server: PrivatePostgres;
beforeAll(async () => {
  server = await PrivatePostgres.start();
});
afterAll(async () => {
  await server?.stop();
});

const key = (): SigningKey =>
  loadSigningKey({
    pem: generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    path: join(tempDir(), 'unused.pem'),
  });

interface Engine {
  open(): Promise<{ a: AsyncLedger; b: AsyncLedger; verify(): Promise<{ ok: boolean; detail: string }> }>;
}

const engines: Record<string, Engine> = {
  sqlite: {
    async open() {
      const path = join(tempDir(), 'ledger.db');
      const [x, y] = [openLedger(path), openLedger(path)];
      return {
        a: new SqliteAsyncLedger(x),
        b: new SqliteAsyncLedger(y),
        verify: async () => {
          const r = verifyLedger(x);
          return { ok: r.ok, detail: JSON.stringify(r) };
        },
      };
    },
  },
  postgres: {
    async open() {
      const url = await server.createDatabase();
      const [x, y] = [await openPostgresLedger(url), await openPostgresLedger(url)];
      return {
        a: x,
        b: y,
        verify: async () => {
          const r = await (x as PostgresLedger).verifyLedger();
          return { ok: r.ok, detail: JSON.stringify(r) };
        },
      };
    },
  },
};

const agent = (id: string) => ({
  type: 'agent.registered' as const,
  agentId: id,
  actor: 'alice',
  payload: {
    name: id,
    owner: null,
    tier: 'T1' as const,
    identities: { githubLogins: [], trailers: [] },
    tokenHash: null,
  },
});

describe.each(Object.keys(engines))('checkpoints through the asynchronous ledger on %s', (name) => {
  it('two replicas checkpointing at once pin the key once; a replica with another key is refused and writes nothing', async () => {
    const { a, b, verify } = await engines[name]!.open();
    const signing = key();
    await a.appendAll([agent('bot-1'), agent('bot-2')]);
    const [one, two] = await Promise.all([
      new StoreCheckpoints(a, signing).create(),
      new StoreCheckpoints(b, signing).create(),
    ]);
    const pins = (await a.entriesAfter(0)).filter((e) => e.type === 'ledger.key_pinned');
    expect(pins).toHaveLength(1);
    expect([one.headSeq, two.headSeq].every((s) => s >= 3)).toBe(true);
    const head = await a.head();
    await expect(new StoreCheckpoints(b, key()).create()).rejects.toThrow(
      /not the key pinned in the ledger at entry/,
    );
    expect(await a.head()).toEqual(head);
    expect((await new StoreCheckpoints(a, signing).latest())?.checkpointId).toMatch(/^ckpt-/);
    expect(await verify()).toMatchObject({ ok: true });
    await a.close();
    await b.close();
  });

  it('the state at the head is the newest checkpoint plus every entry after it', async () => {
    const { a, b } = await engines[name]!.open();
    const checkpoints = new StoreCheckpoints(a, key());
    await a.appendAll([agent('bot-1')]);
    const first = await checkpoints.create();
    expect(Object.keys(first.state.agents)).toEqual(['bot-1']);
    await b.appendAll(Array.from({ length: 1500 }, (_, i) => agent(`bot-${i + 2}`)));
    const { state, head } = await checkpoints.stateAtHead();
    expect(Object.keys(state.agents)).toHaveLength(1501);
    expect(head).toEqual(await b.head());
    await a.close();
    await b.close();
  });
});
