/**
 * The service as the chaos run starts it: a process of its own, so that "the service is killed"
 * means SIGKILL, with nothing flushed and nothing said goodbye. Configured by the environment like
 * `agov serve`, with short retry and breaker timings so that a minute's run sees many recoveries.
 * `AGOV_CHAOS_DEFECT=lease-in-redis` keeps the periodic-work lease in Redis, which a restart empties.
 * `AGOV_CHAOS_DEFECT=no-fencing` runs a deliberately broken build: lock releases skip the fencing
 * check, which the run must catch.
 */

import type { ReplicaPresence } from '../app/replicas.js';
import { startService } from '../app/service.js';
import { readEnv } from '../config/read-env.js';
import { createLogger } from '../platform/logger.js';
import { createBreaker } from '../platform/resilience.js';
import type { StateStore } from '../state/state-store.js';
import { PERIODIC_LINE } from './spawned-service.js';

function breakFencing(state: StateStore): void {
  const release = state.releaseLock.bind(state);
  state.releaseLock = async (key: string) => {
    const current = await state.getLock(key);
    return current ? release(key, current.token, null) : false;
  };
}

/** The lease where a Redis restart forgets it: two replicas may each think they hold it. */
function leaseInStateStore(presence: ReplicaPresence, state: StateStore): void {
  (presence as unknown as { leases: () => StateStore }).leases = () => state;
}

const retry = { initialMs: 50, maxMs: 400 };
const breaker = { halfOpenAfterMs: 300, consecutiveFailures: 5 };
const service = await startService(readEnv(), createLogger(process.env.LOG_LEVEL ?? 'silent'), {
  // Each piece of periodic work, so the run can check no two replicas did it at once.
  onPeriodicWork: (event) => process.stdout.write(`${PERIODIC_LINE}${JSON.stringify(event)}\n`),
  github: { reconcileIntervalMs: 3000, retry, breaker },
  slackRetry: retry,
  slackBreaker: createBreaker(breaker),
  vaultRetry: retry,
  vaultBreaker: createBreaker(breaker),
});
if (process.env.AGOV_CHAOS_DEFECT === 'no-fencing') breakFencing(service.runtime.state);
if (process.env.AGOV_CHAOS_DEFECT === 'lease-in-redis')
  leaseInStateStore(service.presence, service.runtime.state);
process.stdout.write(`ready ${service.port}\n`);
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void service.stop().finally(() => process.exit(0));
  });
}
