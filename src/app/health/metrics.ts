import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { LedgerEntry } from '../../core/ledger-entries.js';
import type { HealthManager } from './health-manager.js';

const BREAKER_VALUE = { closed: 0, half_open: 1, open: 2, isolated: 2 } as const;

/** Prometheus metrics, on a registry of their own (several services can live in one test process). */
export class Metrics {
  readonly registry = new Registry();
  readonly httpDuration: Histogram<'route' | 'status'>;
  private readonly decisions: Counter<'outcome'>;
  private readonly violations: Counter<'type' | 'severity'>;
  private readonly preflights: Counter<'decision'>;

  constructor(
    queues: () => Promise<Record<string, number>>,
    health: HealthManager,
    runsPeriodicWork: () => boolean = () => true,
  ) {
    const registers = [this.registry];
    this.decisions = new Counter({
      name: 'agov_decisions_total',
      help: 'PR decisions by outcome',
      labelNames: ['outcome'],
      registers,
    });
    this.violations = new Counter({
      name: 'agov_violations_total',
      help: 'Violations by type',
      labelNames: ['type', 'severity'],
      registers,
    });
    this.preflights = new Counter({
      name: 'agov_preflights_total',
      help: 'Preflight answers',
      labelNames: ['decision'],
      registers,
    });
    this.httpDuration = new Histogram({
      name: 'agov_http_request_duration_seconds',
      help: 'HTTP request latency by route (webhooks, Slack, agent API)',
      labelNames: ['route', 'status'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    registerGauges(registers, queues, health);
    new Gauge({
      name: 'agov_periodic_work_leader',
      help: '1 while this replica holds the periodic-work lease (sweeps, checkpoints, expiry run here), else 0',
      registers,
      collect() {
        this.set(runsPeriodicWork() ? 1 : 0);
      },
    });
  }

  /** Counts what the ledger records, so every process that follows the ledger counts the same. */
  observe(entry: LedgerEntry): void {
    if (entry.type === 'decision.recorded') this.decisions.inc({ outcome: entry.payload.outcome });
    else if (entry.type === 'violation.recorded')
      this.violations.inc({ type: entry.payload.violation, severity: entry.payload.severity });
    else if (entry.type === 'preflight.decided') this.preflights.inc({ decision: entry.payload.decision });
  }
}

/** Gauges read when scraped: queue depths, breakers, rate limits, dependency states. */
function registerGauges(
  registers: Registry[],
  queues: () => Promise<Record<string, number>>,
  health: HealthManager,
): void {
  const dependencies = () => Object.entries(health.report().dependencies);
  new Gauge({
    name: 'agov_queue_depth',
    help: 'Pending work by queue (inbox, outbox per target)',
    labelNames: ['queue'],
    registers,
    async collect() {
      for (const [queue, n] of Object.entries(await queues())) this.set({ queue }, n);
    },
  });
  new Gauge({
    name: 'agov_breaker_state',
    help: 'Circuit breaker per dependency: 0 closed, 1 half open, 2 open',
    labelNames: ['dependency'],
    registers,
    collect() {
      for (const [dependency, r] of dependencies()) {
        if (r.breaker) this.set({ dependency }, BREAKER_VALUE[r.breaker]);
      }
    },
  });
  new Gauge({
    name: 'agov_rate_limit_remaining',
    help: 'Requests left in the rate-limit window, per dependency (GitHub: the installation with least left)',
    labelNames: ['dependency'],
    registers,
    collect() {
      for (const [dependency, r] of dependencies())
        if (r.rateLimit) this.set({ dependency }, r.rateLimit.remaining);
    },
  });
  new Gauge({
    name: 'agov_rate_limit_reset_seconds',
    help: 'When the rate-limit window resets, as a Unix time, per dependency',
    labelNames: ['dependency'],
    registers,
    collect() {
      for (const [dependency, r] of dependencies())
        if (r.rateLimit?.resetAt) this.set({ dependency }, Date.parse(r.rateLimit.resetAt) / 1000);
    },
  });
  new Gauge({
    name: 'agov_dependency_up',
    help: 'Dependency state: 1 up, 0.5 degraded, 0 down (off: absent)',
    labelNames: ['dependency'],
    registers,
    collect() {
      for (const [dependency, r] of dependencies()) {
        if (r.state !== 'off')
          this.set({ dependency }, r.state === 'up' ? 1 : r.state === 'degraded' ? 0.5 : 0);
      }
    },
  });
}
