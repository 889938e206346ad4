/**
 * Checks the hash chain on its own connection while the verifying thread replays projections:
 * the two halves of `verifyLedger` share no state and run on two cores.
 */
import type { MessagePort } from 'node:worker_threads';
import { workerData } from 'node:worker_threads';
import { checkChain, VERIFY_MMAP_BYTES } from './chain-check.js';
import { openLedgerDb } from './open-ledger-db.js';

const { path, from, upTo, signal, port } = workerData as {
  path: string;
  from: number;
  upTo: number;
  signal: SharedArrayBuffer;
  port: MessagePort;
};
const flag = new Int32Array(signal);
Atomics.store(flag, 0, 1);
Atomics.notify(flag, 0);
let result: unknown;
try {
  const db = openLedgerDb(path, { mustExist: true, readonly: true });
  try {
    db.pragma(`mmap_size = ${VERIFY_MMAP_BYTES}`);
    result = checkChain(db, upTo, from);
  } finally {
    db.close();
  }
} catch (error) {
  result = { error: (error as Error).message };
}
port.postMessage(result);
Atomics.store(flag, 0, 2);
Atomics.notify(flag, 0);
