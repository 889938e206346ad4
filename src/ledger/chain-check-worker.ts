/**
 * Checks chunks of the hash chain on its own connection while the verifying thread replays
 * projections, taking each chunk from the counter it shares with the other threads; the first
 * worker does the chain's half of the `agent_actions` comparison first. Imports only
 * better-sqlite3, node's own modules and the chain check: a worker that loaded the ledger's
 * modules (zod schemas, migrations) would spend more time starting than checking.
 */

import type { MessagePort } from 'node:worker_threads';
import { workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { type ChainTypes, chainIntegrity, checkChainChunk, VERIFY_MMAP_BYTES } from './chain-check.js';
import { type ChainWorkerMessage, NEXT_CHUNK, WORKER_STATE } from './chain-check-thread.js';
import { actionsAllStored } from './stored-rows.js';

const { path, upTo, chunks, chunkSize, types, shared, slot, port, actions, integrity } = workerData as {
  path: string;
  types: ChainTypes;
  upTo: number;
  chunks: number;
  chunkSize: number;
  shared: Int32Array;
  slot: number;
  port: MessagePort;
  /** Whether this worker does the chain's half of the agent_actions comparison. */
  actions: boolean;
  /** Whether this worker runs the integrity check of the chain's table and its index. */
  integrity: boolean;
};
// Told not to start (the verifying thread has taken every chunk): nothing to do.
if (Atomics.compareExchange(shared, slot, WORKER_STATE.idle, WORKER_STATE.running) === WORKER_STATE.idle) {
  try {
    const db = new Database(path, { readonly: true, fileMustExist: true });
    try {
      db.pragma('busy_timeout = 5000');
      db.pragma(`mmap_size = ${VERIFY_MMAP_BYTES}`);
      if (actions) {
        // A query that fails here (a stored table not of this build) is done again by the caller.
        try {
          port.postMessage({ actionsAllStored: actionsAllStored(db, upTo) } satisfies ChainWorkerMessage);
        } catch {}
      }
      if (integrity) {
        try {
          port.postMessage({ integrity: chainIntegrity(db) } satisfies ChainWorkerMessage);
        } catch {}
      }
      for (
        let chunk = Atomics.add(shared, NEXT_CHUNK, 1);
        chunk < chunks;
        chunk = Atomics.add(shared, NEXT_CHUNK, 1)
      ) {
        const from = chunk * chunkSize + 1;
        const result = checkChainChunk(db, from, Math.min(upTo, from + chunkSize - 1), types);
        port.postMessage({ chunk, result } satisfies ChainWorkerMessage);
        // Every chunk before a bad one is taken already: the rest need no checking.
        if (result.problem) Atomics.store(shared, NEXT_CHUNK, chunks);
      }
    } finally {
      db.close();
    }
  } catch (error) {
    port.postMessage({ error: (error as Error).message } satisfies ChainWorkerMessage);
  } finally {
    Atomics.store(shared, slot, WORKER_STATE.done);
    Atomics.notify(shared, slot);
  }
}
