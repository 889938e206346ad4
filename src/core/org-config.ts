/**
 * The organisation config (`GOVERNANCE_CONFIG`, YAML): agents with their identities and owners,
 * approvers, the council, tier overrides, error budgets and consequences. Parsed once at the edge.
 * Its sections are in `org-config/`.
 */
import { z } from 'zod';
import { agentApiSection, watchersSection } from './org-config/operations.js';
import { agentsSection, councilSection, personSchema } from './org-config/people.js';
import { slackSection } from './org-config/slack.js';
import {
  budgetsSection,
  consequencesSection,
  promotionSection,
  type TierOverride,
  tiersSection,
} from './org-config/trust.js';
import { DEFAULT_TIER_CAPABILITIES, type TierCapabilities, type TierId } from './tiers.js';
import { DEFAULT_BUDGET_CHARGES, DEFAULT_CONSEQUENCES, type SEVERITIES } from './violations.js';

export { SLACK_COMMANDS, type SlackCommand } from './org-config/slack.js';
export { configWarnings } from './org-config/warnings.js';

export const orgConfigSchema = z
  .object({
    agents: agentsSection,
    /** People who may approve (their GitHub login, Slack user and teams): one identity each. */
    approvers: z.array(personSchema).default([]),
    /**
     * Everyone else whose GitHub and Slack identities must be known as one person (admins who
     * request promotions, owners): the same shape as `approvers`, without the right to approve.
     */
    people: z.array(personSchema).default([]),
    council: councilSection,
    tiers: tiersSection,
    budgets: budgetsSection,
    consequences: consequencesSection,
    slack: slackSection,
    promotion: promotionSection,
    watchers: watchersSection,
    agent_api: agentApiSection,
  })
  .strict();

export type OrgConfig = z.infer<typeof orgConfigSchema>;

/** The capabilities of a tier after the organisation's overrides. */
export function tierCapabilities(config: OrgConfig, tier: TierId): TierCapabilities {
  const base = DEFAULT_TIER_CAPABILITIES[tier];
  const o = (config.tiers as Partial<Record<TierId, TierOverride>>)[tier] ?? {};
  return {
    actions: o.actions ?? base.actions,
    allowedPaths: o.allowed_paths ?? base.allowedPaths,
    maxChangedFiles: o.max_changed_files ?? base.maxChangedFiles,
    maxChangedLines: o.max_changed_lines ?? base.maxChangedLines,
    mayPassWithoutHuman: o.may_pass_without_human ?? base.mayPassWithoutHuman,
    vaultReadPaths: o.vault_read_paths ?? base.vaultReadPaths,
  };
}

export function consequenceFor(config: OrgConfig, severity: (typeof SEVERITIES)[number]) {
  return config.consequences[severity] ?? DEFAULT_CONSEQUENCES[severity];
}

export function budgetChargeFor(config: OrgConfig, severity: (typeof SEVERITIES)[number]): number {
  return config.budgets.charges[severity] ?? DEFAULT_BUDGET_CHARGES[severity];
}

/** The config that applies when the organisation has written none. */
export const EMPTY_ORG_CONFIG: OrgConfig = orgConfigSchema.parse({});
