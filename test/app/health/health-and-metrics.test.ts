import { join } from 'node:path';
import { ConsecutiveBreaker, circuitBreaker, handleAll } from 'cockatiel';
import { afterEach, expect, it } from 'vitest';
import { HealthManager } from '../../../src/app/health/health-manager.js';
import { type RunningService, startService } from '../../../src/app/service.js';
import { AgentClient } from '../../../src/client/index.js';
import { readEnv } from '../../../src/config/read-env.js';
import { createLogger } from '../../../src/platform/logger.js';
import { tempDir } from '../../helpers/agov.js';

let service: RunningService | null = null;
afterEach(async () => {
  await service?.stop();
  service = null;
});

it('serves Prometheus metrics: decisions, violations, preflights, queue depths, breakers and latency', async () => {
  service = await startService(
    readEnv({ LEDGER_PATH: join(tempDir(), 'ledger.db'), PORT: '0', HOST: '127.0.0.1' }),
    createLogger('silent'),
  );
  const { token } = await service.runtime.governance.registerAgent({ id: 'metric-bot', tier: 'T1' }, 'admin');
  const client = new AgentClient({ baseUrl: `http://127.0.0.1:${service.port}`, token });
  await client.preflight({ action: 'read', repository: 'acme/web' });
  await client.preflight({ action: 'deploy', repository: 'acme/web' });
  await service.runtime.governance.recordViolation(
    'metric-bot',
    { type: 'ci_failure', details: 'red' },
    'ci:1',
    'github',
  );
  await service.runtime.governance.syncState();
  const res = await fetch(`http://127.0.0.1:${service.port}/metrics`);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
  const text = await res.text();
  expect(text).toContain('agov_preflights_total{decision="allow"} 1');
  expect(text).toContain('agov_preflights_total{decision="deny"} 1');
  expect(text).toContain('agov_violations_total{type="ci_failure",severity="low"} 1');
  expect(text).toContain('agov_queue_depth{queue="outbox.github"} 0');
  expect(text).toContain('agov_breaker_state{dependency="state_store"} 0');
  expect(text).toContain('agov_dependency_up{dependency="ledger"} 1');
  expect(text).toMatch(/agov_http_request_duration_seconds_count\{route="\/api\/v1",status="200"\} 2/);
});

it('reports a dependency down while its breaker is open, up once a trial call succeeds, and runs recovery hooks', async () => {
  const breaker = circuitBreaker(handleAll, { halfOpenAfter: 50, breaker: new ConsecutiveBreaker(1) });
  let healthy = true;
  let recovered = 0;
  const health = new HealthManager();
  health.register({ name: 'ledger', required: true, configured: true, probe: async () => {} });
  health.register({ name: 'slack', required: false, configured: true, breaker });
  health.register({
    name: 'state_store',
    required: false,
    configured: true,
    probe: async () => {
      if (!healthy) throw new Error('ECONNREFUSED');
    },
  });
  health.register({ name: 'vault', required: false, configured: false });
  health.onRecovery('state_store', async () => {
    recovered++;
  });
  await health.probeAll();
  expect(health.report()).toEqual({
    status: 'ready',
    dependencies: {
      ledger: { state: 'up' },
      slack: { state: 'up', breaker: 'closed' },
      state_store: { state: 'up' },
      vault: { state: 'off', detail: 'not configured' },
    },
  });
  await breaker.execute(() => Promise.reject(new Error('HTTP 503'))).catch(() => undefined);
  healthy = false;
  await health.probeAll();
  expect(health.report().status).toBe('degraded');
  expect(health.report().dependencies.slack).toEqual({
    state: 'down',
    detail: 'circuit open after repeated failures',
    breaker: 'open',
  });
  expect(health.report().dependencies.state_store).toEqual({ state: 'down', detail: 'ECONNREFUSED' });
  await new Promise((r) => setTimeout(r, 60));
  await breaker.execute(async () => 'ok');
  expect(health.report().dependencies.slack).toEqual({ state: 'up', breaker: 'closed' });
  healthy = true;
  await health.probeAll();
  expect(recovered).toBe(1);
  await health.probeAll();
  expect(recovered).toBe(1);
});

it('says why a dependency is down without naming its host, port or socket path', async () => {
  const health = new HealthManager();
  const failures = [
    'connect ECONNREFUSED 127.0.0.1:5491',
    'getaddrinfo ENOTFOUND db.internal.example.com',
    'connect ENOENT /var/run/postgresql/.s.PGSQL.5432',
    'connect ETIMEDOUT [fd00::12]:6379',
  ];
  for (const [i, message] of failures.entries())
    health.register({
      name: `dep${i}`,
      required: false,
      configured: true,
      probe: async () => Promise.reject(new Error(message)),
    });
  await health.probeAll();
  const details = Object.values(health.report().dependencies).map((d) => d.detail);
  expect(details).toEqual([
    'connect ECONNREFUSED',
    'getaddrinfo ENOTFOUND',
    'connect ENOENT',
    'connect ETIMEDOUT',
  ]);
});

it('is not ready when the ledger is down', async () => {
  const health = new HealthManager();
  health.register({
    name: 'ledger',
    required: true,
    configured: true,
    probe: async () => Promise.reject(new Error('disk I/O error')),
  });
  await health.probeAll();
  expect(health.report()).toEqual({
    status: 'not_ready',
    dependencies: { ledger: { state: 'down', detail: 'disk I/O error' } },
  });
});
