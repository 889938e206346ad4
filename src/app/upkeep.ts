import type { AgentRuntime } from '../agents-api/agent-runtime.js';
import { DeploymentApprovals } from '../governance/deployment-approvals.js';
import type { Governance } from '../governance/governance.js';
import { replaySafetyJournal } from '../governance/safety-actions.js';
import type { Logger } from '../platform/logger.js';
import type { PeriodicGate } from '../platform/periodic-gate.js';
import type { Watcher } from '../watchers/watcher.js';
import type { HealthManager } from './health/health-manager.js';
import type { Integrations } from './integrations.js';

interface UpkeepParts {
  governance: Governance;
  integrations: Integrations;
  health: HealthManager;
  agentRuntime: AgentRuntime;
  watcher: Watcher;
  logger: Logger;
  /** Runs a piece of work only while this replica holds the periodic-work lease (app/replicas.ts). */
  periodic: PeriodicGate;
}

/**
 * The periodic upkeep, as of `now`. Every replica follows the consequences, probes its
 * dependencies, records its queued safety actions and rebuilds a state store that came back empty.
 * The shared work — missed heartbeats, budget recovery, the bug watcher, the council's Slack group
 * and approval expiry (PRs' and deployments') — runs only on the replica holding the periodic-work
 * lease. Each step that fails is logged and retried next time; the others still run.
 */
export function createUpkeep(parts: UpkeepParts): (now?: Date) => Promise<void> {
  const { governance, integrations, health, agentRuntime, logger } = parts;
  const deployments = new DeploymentApprovals(governance);
  const attempt = async (what: string, step: () => unknown) => {
    try {
      await step();
    } catch (error) {
      logger.warn({ err: error }, `${what} failed; will retry`);
    }
  };
  return async (now = governance.clock.now()) => {
    await integrations.consequences.runNow();
    await attempt('health probe', () => health.probeAll());
    await attempt('safety journal replay', () =>
      replaySafetyJournal(governance, integrations.revocations, logger),
    );
    await attempt('state store rebuild', () => rebuildIfEmpty(governance, logger));
    const shared = (what: string, step: () => unknown) => parts.periodic(what, () => attempt(what, step));
    await shared('heartbeat sweep', () => agentRuntime.sweepHeartbeats());
    await shared('budget recovery', () => governance.recoverBudgets(now));
    await shared('bug watcher', () => watch(parts, now));
    await shared('council user group read', () => integrations.slack?.syncCouncil(now.getTime()));
    // Expiry is the core's: a PR past its deadline is decided again at `now` and the decision
    // recorded, with or without Slack. Slack first marks its card expired and, for `escalate`,
    // tells the admins.
    await shared('approval expiry', async () => {
      await integrations.slack?.expireApprovals(now);
      integrations.slack?.pump.kick();
    });
    await shared('approval expiry', () => integrations.github?.expireWaiting(now));
    // A deployment past its gate's deadline (or that nobody left may approve) is answered rejected.
    await shared('deployment expiry', async () => {
      if ((await deployments.expire(now)) > 0) integrations.kickOutboxes();
    });
  };
}

/** A Redis that restarted between two probes came back empty without ever looking down. */
async function rebuildIfEmpty(governance: Governance, logger: Logger): Promise<void> {
  if (await governance.state.isRestored()) return;
  const restored = await governance.restoreState();
  logger.warn({ headSeq: restored.headSeq }, 'state store was empty; rebuilt from the ledger');
}

async function watch({ watcher, integrations, logger }: UpkeepParts, now: Date): Promise<void> {
  const raised = await watcher.run(now);
  if (!raised.length) return;
  logger.warn(
    { findings: raised.map((f) => f.key) },
    `bug watcher: ${raised.map((f) => f.summary).join('; ')}`,
  );
  integrations.slack?.pump.kick();
}
