import type { CircuitBreakerPolicy } from 'cockatiel';
import type { Env } from '../config/read-env.js';
import { GithubIntegration, type GithubIntegrationOptions } from '../github/github-integration.js';
import { readGithubConfig } from '../github/read-github-config.js';
import { Consequences } from '../governance/consequences.js';
import type { Governance } from '../governance/governance.js';
import { Promotions } from '../governance/promotions.js';
import { Revocations } from '../governance/revocations.js';
import { IntegrationManager } from '../integrations/integration-manager.js';
import type { Route } from '../platform/http-server.js';
import type { Logger } from '../platform/logger.js';
import type { PeriodicGate } from '../platform/periodic-gate.js';
import { Pump } from '../platform/pump.js';
import { readVaultConfig } from '../secrets/vault-config.js';
import { VaultDeliverer, vaultSetTierMessage } from '../secrets/vault-deliverer.js';
import { VaultSecrets } from '../secrets/vault-secrets.js';
import { readSlackConfig } from '../slack/read-slack-config.js';
import { SlackIntegration } from '../slack/slack-integration.js';

export interface IntegrationOptions {
  github?: GithubIntegrationOptions;
  /** Runs a piece of work only while this replica holds the periodic-work lease (the reconciliation sweep). */
  periodic?: PeriodicGate;
  vaultRetry?: { initialMs: number; maxMs: number };
  vaultBreaker?: CircuitBreakerPolicy;
  slackRetry?: { initialMs: number; maxMs: number };
  slackBreaker?: CircuitBreakerPolicy;
}

/** GitHub, Slack and Vault as configured, the kill switch and promotions, and the consequences follower. */
export interface Integrations {
  github: GithubIntegration | null;
  slack: SlackIntegration | null;
  vault: { secrets: VaultSecrets; deliverer: VaultDeliverer } | null;
  revocations: Revocations;
  promotions: Promotions;
  /** Queues what the ledger's new entries call for, then confirms revocations. */
  consequences: Pump;
  routes: Route[];
  /** Asks every delivery loop to run soon. */
  kickOutboxes(): void;
}

/**
 * Builds the outside integrations the environment configures. Everything an entry calls for is
 * queued by one ledger follower from its stored position (entries recorded by the CLI, another
 * process or before a crash get their consequences too, once), and delivered by one loop per target.
 */
export function wireIntegrations(
  governance: Governance,
  env: Env,
  logger: Logger,
  options: IntegrationOptions,
): Integrations {
  const vaultConfig = readVaultConfig(env);
  const secrets = vaultConfig ? new VaultSecrets(vaultConfig, governance.config, options.vaultBreaker) : null;
  const parts: Pick<Integrations, 'github' | 'slack'> & { vault: VaultDeliverer | null } = {
    github: null,
    slack: null,
    vault: null,
  };
  const kickOutboxes = () => {
    parts.vault?.pump.kick();
    parts.github?.kickOutbox();
    parts.slack?.kick();
  };
  const revocations = new Revocations(governance, { vault: Boolean(secrets) }, kickOutboxes);
  const promotions = new Promotions(governance, secrets ? vaultSetTierMessage : null, kickOutboxes);
  parts.github = githubFor(governance, env, logger, {
    ...(options.periodic ? { periodic: options.periodic } : {}),
    ...options.github,
  });
  if (secrets) parts.vault = new VaultDeliverer(governance, secrets, logger, options.vaultRetry);
  parts.slack = slackFor(governance, env, logger, { promotions, revocations }, parts, options);
  const subscribers = new IntegrationManager();
  if (parts.slack) subscribers.subscribe(parts.slack);
  const follower = new Consequences(governance.store, revocations, subscribers);
  const consequences = new Pump(
    async () => {
      if ((await follower.run()) > 0) kickOutboxes();
    },
    1000,
    (error) => logger.error({ err: error }, 'following the ledger for consequences failed; will retry'),
  );
  governance.onEntry(() => consequences.kick());
  return {
    ...parts,
    vault: secrets && parts.vault ? { secrets, deliverer: parts.vault } : null,
    revocations,
    promotions,
    consequences,
    routes: [parts.github?.route, parts.slack?.route].filter((r): r is Route => Boolean(r)),
    kickOutboxes,
  };
}

function githubFor(
  governance: Governance,
  env: Env,
  logger: Logger,
  options: GithubIntegrationOptions | undefined,
): GithubIntegration | null {
  const config = readGithubConfig(env);
  if (!config) return null;
  return new GithubIntegration(governance, config, logger, {
    slackUnavailable: slackUnavailable(governance, env),
    ...options,
  });
}

/** Why approvers cannot be reminded in Slack, in words for the ledger; null when they can. */
function slackUnavailable(governance: Governance, env: Env): string | null {
  if (!readSlackConfig(env)) return 'Slack is not configured (SLACK_BOT_TOKEN)';
  if (!governance.config.slack.approvals_channel)
    return 'no Slack approvals channel is configured (slack.approvals_channel)';
  return null;
}

function slackFor(
  governance: Governance,
  env: Env,
  logger: Logger,
  deps: { promotions: Promotions; revocations: Revocations },
  parts: { github: GithubIntegration | null },
  options: IntegrationOptions,
): SlackIntegration | null {
  const config = readSlackConfig(env);
  if (!config) return null;
  return new SlackIntegration(
    governance,
    config,
    {
      ...deps,
      reevaluate: async (installationId, repository, number) => {
        if (!parts.github) throw new Error('the GitHub App is not configured');
        await parts.github.reevaluate(installationId, repository, number, 'slack.approval');
      },
    },
    logger,
    options.slackRetry,
    options.slackBreaker,
  );
}
