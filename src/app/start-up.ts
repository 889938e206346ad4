import type { Env } from '../config/read-env.js';
import { verifyOnStart } from '../ledger/verify-on-start.js';
import type { Logger } from '../platform/logger.js';
import type { PeriodicGate } from '../platform/periodic-gate.js';
import type { Runtime } from './open-runtime.js';

export interface StartUpCheck {
  at: string;
  when: 'start-up';
  ok: true;
  entries: number;
  ms: number;
}

/**
 * Before anything is served: the ledger verified (agents authenticate from its projections and the
 * state store is rebuilt from its checkpoints, so nothing is served from a rewritten ledger), the
 * state store rebuilt, and the agents the organisation config names registered.
 */
export async function prepareLedger(runtime: Runtime, logger: Logger): Promise<StartUpCheck> {
  const verified = await verifyOnStart(() => runtime.verify(), runtime.signingKey, runtime.where);
  const at = runtime.governance.clock.now().toISOString();
  logger.info(verified, `ledger verified: ${verified.checked} entries, checkpoints and projections`);
  const restored = await runtime.governance.restoreState();
  logger.info(
    { checkpoint: restored.checkpointId, headSeq: restored.headSeq, store: runtime.state.kind },
    `state store rebuilt from ${restored.checkpointId ?? 'the start of the ledger'} up to entry ${restored.headSeq}`,
  );
  const added = await runtime.governance.registerConfiguredAgents();
  if (added.length)
    logger.info({ agents: added }, `registered ${added.length} agent(s) from the organisation config`);
  return { at, when: 'start-up', ok: true, entries: verified.checked, ms: verified.ms };
}

/**
 * Follows entries other processes append (the CLI, other replicas), runs upkeep, and takes
 * checkpoints while this replica holds the periodic-work lease.
 */
export function startTimers(
  runtime: Runtime,
  env: Env,
  logger: Logger,
  upkeep: () => Promise<void>,
  periodic: PeriodicGate,
): NodeJS.Timeout[] {
  const timers = [
    setInterval(() => {
      runtime.governance
        .syncState()
        .catch((error: unknown) => logger.warn({ err: error }, 'state sync failed; will retry'));
    }, 1000),
    setInterval(() => void upkeep(), env.HEALTH_PROBE_INTERVAL_MS),
  ];
  if (env.CHECKPOINT_INTERVAL_MINUTES > 0) {
    timers.push(
      setInterval(() => {
        const { checkpoints } = runtime.governance;
        void periodic('checkpoint', async () => {
          const latest = await checkpoints.latest();
          if (latest && latest.headSeq === (await runtime.store.head()).seq) return;
          const c = await checkpoints.create();
          logger.info({ checkpoint: c.checkpointId, headSeq: c.headSeq }, 'checkpoint created');
        }).catch((error: unknown) => logger.warn({ err: error }, 'checkpoint failed; will retry'));
      }, env.CHECKPOINT_INTERVAL_MINUTES * 60_000),
    );
  }
  for (const t of timers) t.unref();
  return timers;
}
