import { Counter, type Registry } from 'prom-client';
import type { AsyncLedger } from '../ledger/async-ledger.js';
import type { Clock } from '../platform/clock.js';
import type { Logger } from '../platform/logger.js';

/** One refused call, as the caller was told. */
export interface Refusal {
  method: string;
  path: string;
  status: number;
  code: string;
  message: string;
}

interface Window {
  startedAt: number;
  /** Refusals since the last entry, not yet written. */
  pending: number;
  codes: Record<string, number>;
  last: Refusal;
  agentId: string | null;
  source: string | null;
  /** Who the entry names as its actor when no agent is known (`anonymous` by default). */
  actor: string;
}

/** Sources tracked at once; past it the rest share one count, so a spread of addresses costs no memory. */
const MAX_SOURCES = 10_000;

/**
 * Refusals that anyone can cause at line rate (no token, a bad token, past a rate limit) are counted
 * in `agov_api_refusals_total` and written to the ledger at most once a minute per source address
 * (or per agent, for its rate limit), with the count: one entry per refusal was 650 entries a
 * second from one client, about 12 GB a day. The first refusal of a source is written at once,
 * so a single mistake is in the ledger as before; those that follow within its minute are
 * counted and written together when the minute is over.
 */
export class RefusalLog {
  private readonly windows = new Map<string, Window>();
  private readonly counter: Counter<'code'>;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly store: AsyncLedger,
    private readonly logger: Logger,
    registry: Registry | null,
    private readonly clock: Clock,
    private readonly windowMs = 60_000,
  ) {
    this.counter = new Counter({
      name: 'agov_api_refusals_total',
      help: 'Agent API calls refused without a valid token or past a rate limit, by error code',
      labelNames: ['code'],
      registers: registry ? [registry] : [],
    });
    // A quarter of the window: a minute that ended is written within 15 s.
    this.timer = setInterval(() => void this.flush(), windowMs / 4);
    this.timer.unref();
  }

  /**
   * Counts a refusal under `key` (`address:…` or `agent:…`), and writes it to the ledger when it
   * is the first of its source's minute. Resolves once any write is done; never rejects.
   */
  async note(
    key: string,
    refusal: Refusal,
    who: { agentId: string | null; source: string | null; actor?: string },
  ) {
    this.counter.inc({ code: refusal.code });
    const at = this.clock.ms();
    let slot = key;
    if (!this.windows.has(slot) && this.windows.size >= MAX_SOURCES) slot = 'overflow';
    const w = this.windows.get(slot);
    if (w && at - w.startedAt < this.windowMs) {
      w.pending++;
      w.codes[refusal.code] = (w.codes[refusal.code] ?? 0) + 1;
      w.last = refusal;
      return;
    }
    const codes = { ...(w?.codes ?? {}) };
    codes[refusal.code] = (codes[refusal.code] ?? 0) + 1;
    const fresh: Window = {
      startedAt: at,
      pending: 0,
      codes: {},
      last: refusal,
      agentId: who.agentId,
      source: slot === 'overflow' ? null : who.source,
      actor: who.actor ?? 'anonymous',
    };
    this.windows.set(slot, fresh);
    await this.write(fresh, (w?.pending ?? 0) + 1, codes);
  }

  /**
   * Writes the counts of every source whose minute is over (all of them when `everything`), and
   * forgets sources that were quiet for a whole minute.
   */
  async flush(at = this.clock.ms(), everything = false): Promise<void> {
    const writes: Promise<void>[] = [];
    for (const [key, w] of this.windows) {
      if (!everything && at - w.startedAt < this.windowMs) continue;
      if (w.pending === 0) {
        this.windows.delete(key);
        continue;
      }
      writes.push(this.write(w, w.pending, w.codes));
      this.windows.set(key, { ...w, startedAt: at, pending: 0, codes: {} });
    }
    await Promise.all(writes);
  }

  /** Writes what is counted and stops the timer. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush(this.clock.ms(), true);
  }

  private async write(w: Window, count: number, codes: Record<string, number>): Promise<void> {
    const r = w.last;
    try {
      await this.store.appendAll([
        {
          type: 'api.refused',
          agentId: w.agentId,
          actor: w.agentId ?? w.actor,
          payload: {
            method: r.method,
            path: r.path,
            status: r.status,
            reason: `${r.code}: ${r.message}`,
            count,
            codes,
            ...(w.source ? { source: w.source } : {}),
          },
        },
      ]);
    } catch (failure) {
      // The refusals stand without their record, and the metric has counted them.
      this.logger.warn({ err: failure, agent: w.agentId, count }, 'could not record agent API refusals');
    }
  }
}
