import { type CircuitBreakerPolicy, CircuitState } from 'cockatiel';

export type DependencyState = 'up' | 'degraded' | 'down' | 'off';

export interface Dependency {
  name: string;
  /** The service cannot take work without it (the ledger). The others degrade it. */
  required: boolean;
  configured: boolean;
  probe?: () => Promise<void>;
  /**
   * Probe at most this often (a call to someone else's API: GitHub, Slack); the last answer stands
   * in between. Without it, every probe round asks again (the ledger's own write).
   */
  probeEveryMs?: number;
  breaker?: CircuitBreakerPolicy;
  /** What the dependency last said about its rate limit (GitHub: the installation with least left). */
  rateLimit?: () => RateLimitReport | null;
}

export interface RateLimitReport {
  remaining: number;
  limit: number | null;
  resetAt: string | null;
  /** Until when only gates spend the budget (low, or asked to wait); null: spent freely. */
  lowUntil: string | null;
}

export interface DependencyReport {
  state: DependencyState;
  detail?: string;
  breaker?: 'closed' | 'open' | 'half_open' | 'isolated';
  rateLimit?: RateLimitReport;
}

const BREAKER_NAMES: Record<CircuitState, DependencyReport['breaker']> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half_open',
  [CircuitState.Isolated]: 'isolated',
};

/**
 * The state of every dependency, from its circuit breaker and a periodic probe. `/readyz` renders
 * it; a dependency coming back calls its recovery hooks (an emptied Redis is rebuilt from the ledger).
 */
export class HealthManager {
  private readonly dependencies: Dependency[] = [];
  private readonly probeErrors = new Map<string, string | null>();
  private readonly recoveryHooks = new Map<string, Array<() => Promise<void>>>();
  private readonly probedAt = new Map<string, number>();
  /** A probe still running is joined, not started again (`/readyz` called by several at once). */
  private readonly running = new Map<string, Promise<void>>();

  constructor(
    private readonly probeTimeoutMs = 1000,
    private readonly now: () => number = Date.now,
  ) {}

  register(dependency: Dependency): void {
    this.dependencies.push(dependency);
  }

  onRecovery(name: string, hook: () => Promise<void>): void {
    this.recoveryHooks.set(name, [...(this.recoveryHooks.get(name) ?? []), hook]);
  }

  /** Probes every configured dependency that is due; runs recovery hooks for those that came back. */
  async probeAll(): Promise<void> {
    await Promise.all(this.dependencies.filter((d) => d.configured && d.probe).map((d) => this.probeOne(d)));
  }

  private probeOne(d: Dependency): Promise<void> | undefined {
    const running = this.running.get(d.name);
    if (running) return running;
    const last = this.probedAt.get(d.name);
    if (d.probeEveryMs && last !== undefined && this.now() - last < d.probeEveryMs) return;
    this.probedAt.set(d.name, this.now());
    const run = (async () => {
      const before = this.probeErrors.get(d.name);
      let error: string | null = null;
      try {
        await withTimeout(d.probe!(), this.probeTimeoutMs);
      } catch (e) {
        error = withoutAddress((e as Error).message);
      }
      this.probeErrors.set(d.name, error);
      if (before && !error) {
        for (const hook of this.recoveryHooks.get(d.name) ?? []) await hook();
      }
    })().finally(() => this.running.delete(d.name));
    this.running.set(d.name, run);
    return run;
  }

  report(): { status: 'ready' | 'degraded' | 'not_ready'; dependencies: Record<string, DependencyReport> } {
    const dependencies: Record<string, DependencyReport> = {};
    for (const d of this.dependencies) dependencies[d.name] = this.stateOf(d);
    const down = this.dependencies.filter((d) => dependencies[d.name]!.state === 'down');
    const status = down.some((d) => d.required)
      ? 'not_ready'
      : down.length > 0 || Object.values(dependencies).some((r) => r.state === 'degraded')
        ? 'degraded'
        : 'ready';
    return { status, dependencies };
  }

  names(): string[] {
    return this.dependencies.map((d) => d.name);
  }

  private stateOf(d: Dependency): DependencyReport {
    if (!d.configured) return { state: 'off', detail: 'not configured' };
    const breaker = d.breaker ? BREAKER_NAMES[d.breaker.state] : undefined;
    const probeError = this.probeErrors.get(d.name);
    const rateLimit = d.rateLimit?.() ?? null;
    const withBreaker = (r: DependencyReport): DependencyReport => ({
      ...r,
      ...(breaker ? { breaker } : {}),
      ...(rateLimit ? { rateLimit } : {}),
    });
    if (probeError) return withBreaker({ state: 'down', detail: probeError });
    if (breaker === 'open' || breaker === 'isolated')
      return withBreaker({ state: 'down', detail: 'circuit open after repeated failures' });
    if (breaker === 'half_open')
      return withBreaker({ state: 'degraded', detail: 'recovering: trying again' });
    if (rateLimit?.lowUntil)
      return withBreaker({
        state: 'degraded',
        detail: `rate limit low: gates only until ${rateLimit.lowUntil}`,
      });
    return withBreaker({ state: 'up' });
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

/**
 * A probe's failure as `/readyz` shows it: the system error, never where it tried to connect (a
 * host, an address and port, a socket path), which the body promises not to name.
 */
function withoutAddress(message: string): string {
  return message.replace(
    /\b(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|ENOENT)\b\s+\S+/g,
    '$1',
  );
}
