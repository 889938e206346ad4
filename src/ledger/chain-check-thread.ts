import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';
import type { checkChain } from './chain-check.js';

const WORKER = new URL('./chain-check-worker.js', import.meta.url);

/** Below this many entries a thread costs more to start than it saves. */
export const CHAIN_THREAD_MIN_ENTRIES = 20_000;

type ChainResult = ReturnType<typeof checkChain>;

/**
 * Starts checking the hash chain of the ledger file at `path`, entries 1..upTo, on a worker
 * thread. `wait` blocks until it is done (verify stays synchronous) and returns null if the worker
 * could not run, for the caller to check on its own thread. Null at once where there is no built
 * worker (running from the TypeScript sources).
 */
export function startChainThread(path: string, upTo: number): { wait(): ChainResult | null } | null {
  if (!existsSync(fileURLToPath(WORKER))) return null;
  const signal = new SharedArrayBuffer(4);
  const flag = new Int32Array(signal);
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(WORKER, {
    workerData: { path, upTo, signal, port: port2 },
    transferList: [port2],
  });
  worker.unref();
  return {
    wait() {
      try {
        // A worker that has not started within 10 s could not load: check on this thread instead.
        if (Atomics.wait(flag, 0, 0, 10_000) === 'timed-out') {
          void worker.terminate();
          return null;
        }
        while (Atomics.load(flag, 0) !== 2) Atomics.wait(flag, 0, 1);
        const message = receiveMessageOnPort(port1)?.message as ChainResult | { error: string } | undefined;
        return message && !('error' in message) ? message : null;
      } finally {
        port1.close();
      }
    },
  };
}
