import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { checkChain } from './chain-check.js';
import { dbOf, type LedgerSource } from './ledger.js';

const WORKER = new URL('./chain-check-worker.js', import.meta.url);

/** Below this many entries a thread costs more to start than it saves. */
export const CHAIN_THREAD_MIN_ENTRIES = 20_000;

type ChainResult = ReturnType<typeof checkChain>;

/**
 * Starts checking the hash chain of the ledger file at `path`, entries from..upTo, on a worker
 * thread. `wait` blocks until it is done (verify stays synchronous) and returns null if the worker
 * could not run, for the caller to check on its own thread. Null at once where there is no built
 * worker (running from the TypeScript sources).
 */
export function startChainThread(
  path: string,
  from: number,
  upTo: number,
): { wait(): ChainResult | null } | null {
  if (!existsSync(fileURLToPath(WORKER))) return null;
  const signal = new SharedArrayBuffer(4);
  const flag = new Int32Array(signal);
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(WORKER, {
    workerData: { path, from, upTo, signal, port: port2 },
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

/**
 * Checks the chain 1..upTo of `db` in ranges, one worker thread each (a core each, up to four),
 * while the caller goes on with its own work; `wait` gives the first problem of all ranges, the
 * range that holds it being the one that found it. Small or in-memory ledgers, and ranges whose
 * worker could not run, are checked on the caller's thread.
 */
export function startChainCheck(store: LedgerSource, upTo: number): { wait(): ChainResult } {
  const db = dbOf(store);
  const ranges = db.memory || upTo < CHAIN_THREAD_MIN_ENTRIES ? 1 : Math.min(4, availableParallelism());
  const size = Math.ceil(upTo / Math.max(1, ranges));
  const parts: { from: number; to: number; thread: { wait(): ChainResult | null } | null }[] = [];
  for (let from = 1; from <= upTo || parts.length === 0; from += size) {
    const to = Math.min(upTo, from + size - 1);
    parts.push({ from, to, thread: ranges > 1 ? startChainThread(db.name, from, to) : null });
    if (size === 0) break;
  }
  return {
    wait() {
      let head = '';
      for (const part of parts) {
        const checked = part.thread?.wait() ?? checkChain(db, part.to, part.from);
        // Ranges are in chain order: the first problem found is the first in the chain.
        if (checked.problem) return checked;
        head = checked.head;
      }
      return { problem: null, checked: upTo, head };
    },
  };
}
