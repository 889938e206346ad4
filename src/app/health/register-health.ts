import type { AgentRuntime } from '../../agents-api/agent-runtime.js';
import type { Governance } from '../../governance/governance.js';
import { LedgerHeartbeat } from '../../ledger/ledger-heartbeat.js';
import type { Logger } from '../../platform/logger.js';
import type { Integrations } from '../integrations.js';
import { HealthManager } from './health-manager.js';
import { githubProbe, INTEGRATION_PROBE_EVERY_MS, slackProbe } from './integration-probes.js';

/**
 * What `/readyz` reports: the ledger (required: a real commit, so a full disk shows), the state
 * store, and GitHub, Slack and Vault when configured (each asked at most once a minute, so an
 * unreachable one shows before a delivery trips its breaker).
 */
export function registerHealth(
  governance: Governance,
  agentRuntime: AgentRuntime,
  parts: Pick<Integrations, 'github' | 'slack' | 'vault'>,
  slackBotToken: string | null,
  logger: Logger,
): HealthManager {
  const health = new HealthManager();
  const heartbeat = new LedgerHeartbeat(governance.store);
  health.register({
    name: 'ledger',
    required: true,
    configured: true,
    probe: () => heartbeat.beat(governance.clock.now()),
  });
  health.register({
    name: 'state_store',
    required: false,
    configured: true,
    probe: () => governance.state.ping(),
    breaker: agentRuntime.stateBreaker,
  });
  registerIntegrations(health, parts, slackBotToken, logger);
  // A state store that comes back may have come back empty (a restarted Redis): rebuild it.
  health.onRecovery('state_store', async () => {
    const restored = await governance.restoreState();
    logger.info({ headSeq: restored.headSeq }, 'state store is back; derived state rebuilt from the ledger');
  });
  return health;
}

function registerIntegrations(
  health: HealthManager,
  { github, slack, vault }: Pick<Integrations, 'github' | 'slack' | 'vault'>,
  slackBotToken: string | null,
  logger: Logger,
): void {
  health.register({
    name: 'github',
    required: false,
    configured: Boolean(github),
    ...(github
      ? {
          breaker: github.breaker,
          rateLimit: () => github.rateLimits.tightest(),
          probe: githubProbe(github.probot, logger),
          probeEveryMs: INTEGRATION_PROBE_EVERY_MS,
        }
      : {}),
  });
  health.register({
    name: 'slack',
    required: false,
    configured: Boolean(slack),
    ...(slack && slackBotToken
      ? {
          breaker: slack.breaker,
          probe: slackProbe(slack.app.client, slackBotToken, logger),
          probeEveryMs: INTEGRATION_PROBE_EVERY_MS,
        }
      : {}),
  });
  const secrets = vault?.secrets;
  health.register({
    name: 'vault',
    required: false,
    configured: Boolean(secrets),
    ...(secrets
      ? {
          breaker: secrets.breaker,
          probe: async () => {
            const h = await secrets.health();
            if (h.state === 'down') throw new Error(`Vault is ${h.detail}`);
          },
        }
      : {}),
  });
}
