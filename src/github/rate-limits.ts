/** What GitHub last said about one installation's (or the App's own) rate limit. */
export interface RateLimitReading {
  /** The installation id, or `app` for calls made as the App itself (its own limit). */
  key: string;
  remaining: number;
  limit: number | null;
  /** When the window resets (GitHub's `x-ratelimit-reset`), as an ISO instant. */
  resetAt: string | null;
  /** Spend only on gates until this instant (a low budget, or a `retry-after`); null: spend freely. */
  lowUntil: string | null;
}

type Headers = Record<string, string | number | undefined> | undefined;

interface Window {
  remaining: number;
  limit: number | null;
  resetMs: number | null;
  retryUntilMs: number | null;
}

/**
 * GitHub's rate limit as every response reports it, per installation. The budget is shared by
 * gates and housekeeping; when it runs low (under `lowShare` of the window, or GitHub asked us to
 * wait), housekeeping (the sweep, finding issues) waits for the reset so gates keep theirs.
 */
export class RateLimits {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly lowShare = 0.1,
  ) {}

  /** Reads the rate-limit headers of one response (success or error); others are ignored. */
  observe(key: string, headers: Headers): void {
    if (!headers) return;
    const resource = headers['x-ratelimit-resource'];
    if (resource !== undefined && resource !== 'core') return; // search and GraphQL have their own
    const known = this.windows.get(key);
    const remaining = numberOf(headers['x-ratelimit-remaining']);
    const retryAfter = numberOf(headers['retry-after']);
    if (remaining === null && retryAfter === null) return;
    const reset = numberOf(headers['x-ratelimit-reset']);
    this.windows.set(key, {
      remaining: remaining ?? known?.remaining ?? 0,
      limit: numberOf(headers['x-ratelimit-limit']) ?? known?.limit ?? null,
      resetMs: reset !== null ? reset * 1000 : (known?.resetMs ?? null),
      retryUntilMs: retryAfter !== null ? this.now() + retryAfter * 1000 : (known?.retryUntilMs ?? null),
    });
  }

  /**
   * Until when non-gate work should wait: for one installation, or for any when no key is given
   * (work that does not know its installation yet). Null when the budget is fine.
   */
  lowUntil(key?: string): Date | null {
    const readings = key === undefined ? this.readings() : this.readings().filter((r) => r.key === key);
    const until = readings.map((r) => r.lowUntil).filter((t): t is string => t !== null);
    return until.length ? new Date(until.sort().at(-1)!) : null;
  }

  /** The installation closest to running out, for `/readyz` and `/metrics`; null before any call. */
  tightest(): RateLimitReading | null {
    const share = (r: RateLimitReading) => (r.limit ? r.remaining / r.limit : 1);
    return this.readings().sort((a, b) => share(a) - share(b) || a.remaining - b.remaining)[0] ?? null;
  }

  private readings(): RateLimitReading[] {
    const now = this.now();
    return [...this.windows].map(([key, w]) => {
      // A window that has reset is full again, whatever its last answer said.
      const reset = w.resetMs !== null && w.resetMs <= now;
      const remaining = reset && w.limit !== null ? w.limit : w.remaining;
      const low = !reset && (w.limit !== null ? remaining < w.limit * this.lowShare : remaining === 0);
      const lowUntilMs = Math.max(low ? (w.resetMs ?? now) : 0, w.retryUntilMs ?? 0);
      return {
        key,
        remaining,
        limit: w.limit,
        resetAt: w.resetMs !== null ? new Date(w.resetMs).toISOString() : null,
        lowUntil: lowUntilMs > now ? new Date(lowUntilMs).toISOString() : null,
      };
    });
  }

  /**
   * An Octokit plugin (for Probot's Octokit) that reads every response's headers into this
   * tracker, keyed by the installation the client is authenticated as.
   */
  plugin() {
    return (octokit: OctokitWithHooks, options: { auth?: unknown }) => {
      const installationId = (options.auth as { installationId?: unknown } | undefined)?.installationId;
      const key = installationId === undefined ? 'app' : String(installationId);
      octokit.hook.after('request', (response) => this.observe(key, response.headers));
      octokit.hook.error('request', (error) => {
        this.observe(key, (error as { response?: { headers?: Headers } }).response?.headers);
        throw error;
      });
    };
  }
}

/** The part of an Octokit the plugin uses: its request hooks. */
interface OctokitWithHooks {
  hook: {
    after(name: 'request', hook: (response: { headers: Headers }) => void): void;
    error(name: 'request', hook: (error: unknown) => never): void;
  };
}

function numberOf(value: string | number | undefined): number | null {
  if (value === undefined || value === '') return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}
