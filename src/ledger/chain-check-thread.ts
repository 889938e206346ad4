import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import {
  type ChainChunkResult,
  type ChainProblem,
  type ChainTypes,
  chainIntegrity,
  checkChainChunk,
} from './chain-check.js';
import { GENESIS_HASH } from './entry-hash.js';
import type { LedgerDb } from './open-ledger-db.js';
import type { RowsStored } from './stored-rows.js';

/*
 * Imported by the chain-check worker too: node's modules and the chain check only.
 */

const WORKER = new URL('./chain-check-worker.js', import.meta.url);

/** Below this many entries a thread costs more to start than it saves. */
export const CHAIN_THREAD_MIN_ENTRIES = 20_000;

/** Entries per chunk: the unit of work the threads take from a shared counter. */
export const CHAIN_CHUNK = 4096;

/** Slots of the shared counters: the next chunk to take, then one state per worker. */
export const NEXT_CHUNK = 0;
/** The worker that runs the integrity check (the first too, with one worker): never cancelled. */
const INTEGRITY_WORKER = 1;
const FIRST_WORKER = 1;
/** A worker's state: not started yet, checking, done (its results posted), or told not to start. */
export const WORKER_STATE = { idle: 0, running: 1, done: 2, cancelled: 3 } as const;

export interface ChainCheckResult {
  problem: ChainProblem | null;
  /** Entries checked before the first problem (all of them when there is none). */
  checked: number;
  /** The stored hash of the last entry checked. */
  head: string;
  /** How many entries up to `upTo` are of the replayed types (with no problem). */
  replayable: number;
  /**
   * The chain's half of the `agent_actions` comparison: the rows the chain writes (the entries
   * with an agent) and whether the stored table holds all of them; null unless a worker did it
   * (`actionsAllStored`) and the chain has no problem.
   */
  actions: RowsStored | null;
  /** `chainIntegrity` of the table (by a worker, else this thread); null when the chain has a problem. */
  integrity: string[] | null;
}

/** What a worker posts: a chunk it checked, or why it stopped. */
export type ChainWorkerMessage =
  | { chunk: number; result: ChainChunkResult }
  | { actionsAllStored: boolean }
  | { integrity: string[] }
  | { error: string };

/**
 * Checks the hash chain 1..upTo of `db` in chunks. Worker threads (one per core but the caller's,
 * at least one and up to four: this thread replays meanwhile and then takes chunks too; each
 * thread more costs its start and, on a machine others share, a share of a core) start at once.
 * The first does the chain's half of the `agent_actions` comparison (`actionsAllStored`, the longest
 * single job) first; all take chunks, in order, from a shared counter while the caller goes on
 * with its own work; `wait` then takes the chunks left on the caller's
 * thread, collects the workers' results and gives the first problem in chain order. Small or
 * in-memory ledgers, and chunks whose worker could not run, are checked on the caller's thread;
 * `actions` is null when no worker did it. `wait` can be called again: it gives the same result.
 */
export function startChainCheck(db: LedgerDb, upTo: number, types: ChainTypes): { wait(): ChainCheckResult } {
  const chunks = Math.ceil(upTo / CHAIN_CHUNK);
  const threads =
    db.memory || upTo < CHAIN_THREAD_MIN_ENTRIES || !existsSync(fileURLToPath(WORKER))
      ? 0
      : Math.max(1, Math.min(4, availableParallelism() - 1));
  const shared = new Int32Array(new SharedArrayBuffer(4 * (FIRST_WORKER + threads)));
  const ports: MessagePort[] = [];
  for (let w = 0; w < threads; w++) {
    const { port1, port2 } = new MessageChannel();
    const worker = new Worker(WORKER, {
      workerData: {
        path: db.name,
        upTo,
        chunks,
        chunkSize: CHAIN_CHUNK,
        types,
        shared,
        slot: FIRST_WORKER + w,
        actions: w === 0,
        integrity: w === Math.min(INTEGRITY_WORKER, threads - 1),
        port: port2,
      },
      transferList: [port2],
    });
    worker.unref();
    ports.push(port1);
  }
  const results: (ChainChunkResult | undefined)[] = new Array(chunks);
  const check = (chunk: number): ChainChunkResult => {
    const from = chunk * CHAIN_CHUNK + 1;
    const result = checkChainChunk(db, from, Math.min(upTo, from + CHAIN_CHUNK - 1), types);
    results[chunk] = result;
    return result;
  };
  let done: ChainCheckResult | null = null;
  return {
    wait() {
      done ??= finish();
      return done;
    },
  };

  function finish(): ChainCheckResult {
    for (
      let chunk = Atomics.add(shared, NEXT_CHUNK, 1);
      chunk < chunks;
      chunk = Atomics.add(shared, NEXT_CHUNK, 1)
    ) {
      // Every chunk before a bad one is taken already: the rest need no checking.
      if (check(chunk).problem) Atomics.store(shared, NEXT_CHUNK, chunks);
    }
    const posted: Posted = { results, actionsAllStored: null, integrity: null };
    // The first two workers are waited for even if they have not started: they do the
    // agent_actions job and the integrity check.
    for (const [w, port] of ports.entries())
      collect(shared, FIRST_WORKER + w, port, posted, w > INTEGRITY_WORKER);
    let head = GENESIS_HASH;
    let replayable = 0;
    let withAgent = 0;
    for (let chunk = 0; chunk < chunks; chunk++) {
      // A chunk a worker took and did not finish (it failed) is checked here.
      const result = results[chunk] ?? check(chunk);
      replayable += result.replayable;
      withAgent += result.withAgent;
      if (result.problem) {
        const { problem } = result;
        return {
          problem,
          checked: problem.seq - 1,
          head: result.head,
          replayable,
          actions: null,
          integrity: null,
        };
      }
      head = result.head;
    }
    const { actionsAllStored: allStored } = posted;
    const actions = allStored === null ? null : { count: withAgent, allStored };
    const integrity = posted.integrity ?? chainIntegrity(db);
    return { problem: null, checked: upTo, head, replayable, actions, integrity };
  }
}

/** What the workers posted: the chunks they checked, and the agent_actions job. */
interface Posted {
  results: (ChainChunkResult | undefined)[];
  actionsAllStored: boolean | null;
  integrity: string[] | null;
}

/**
 * Waits for the worker at `slot` to finish and keeps what it posted. A worker that has not
 * started yet is told not to if it may be (`cancel`): this thread has taken every chunk.
 */
function collect(shared: Int32Array, slot: number, port: MessagePort, posted: Posted, cancel: boolean): void {
  try {
    if (
      cancel &&
      Atomics.compareExchange(shared, slot, WORKER_STATE.idle, WORKER_STATE.cancelled) === WORKER_STATE.idle
    )
      return;
    for (
      let state = Atomics.load(shared, slot);
      state !== WORKER_STATE.done;
      state = Atomics.load(shared, slot)
    )
      Atomics.wait(shared, slot, state);
    for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) {
      const message = m.message as ChainWorkerMessage;
      if ('chunk' in message) posted.results[message.chunk] = message.result;
      if ('actionsAllStored' in message) posted.actionsAllStored = message.actionsAllStored;
      if ('integrity' in message) posted.integrity = message.integrity;
    }
  } finally {
    port.close();
  }
}
