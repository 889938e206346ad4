/**
 * The organisation config (`GOVERNANCE_CONFIG`, YAML): agents with their identities and owners,
 * approvers, the council, tier overrides, error budgets and consequences. Parsed once at the edge.
 */
import { z } from 'zod';
import { AGENT_ACTIONS } from './actions.js';
import { agentIdSchema, githubLoginSchema, trailerSchema } from './agent.js';
import { INTEGRATION_EVENTS } from './lifecycle.js';
import { DEFAULT_TIER_CAPABILITIES, TIER_IDS, type TierCapabilities, type TierId } from './tiers.js';
import { CONSEQUENCES, DEFAULT_BUDGET_CHARGES, DEFAULT_CONSEQUENCES, SEVERITIES } from './violations.js';

/** The `/agent` commands besides `help`: `slack.commands` may say who runs each. */
export const SLACK_COMMANDS = [
  'list',
  'status',
  'audit',
  'suggest',
  'promote',
  'demote',
  'revoke',
  'reinstate',
  'pause',
  'resume',
] as const;
export type SlackCommand = (typeof SLACK_COMMANDS)[number];

const tierOverrideSchema = z
  .object({
    actions: z.array(z.enum(AGENT_ACTIONS)),
    allowed_paths: z.array(z.string().min(1)),
    max_changed_files: z.number().int().nonnegative(),
    max_changed_lines: z.number().int().nonnegative(),
    may_pass_without_human: z.boolean(),
    vault_read_paths: z.array(z.string().min(1)),
  })
  .partial()
  .strict();

const personSchema = z
  .object({
    github: githubLoginSchema,
    slack: z
      .string()
      .regex(/^[UW][A-Z0-9]+$/, 'a Slack user id looks like U012ABCDEF')
      .optional(),
    teams: z.array(z.string().min(1)).default([]),
  })
  .strict();

const severityRecord = <T extends z.ZodType>(value: T) =>
  z
    .object(
      Object.fromEntries(SEVERITIES.map((s) => [s, value.optional()])) as Record<
        (typeof SEVERITIES)[number],
        z.ZodOptional<T>
      >,
    )
    .strict();

export const orgConfigSchema = z
  .object({
    agents: z
      .array(
        z
          .object({
            id: agentIdSchema,
            name: z.string().min(1).optional(),
            owner: githubLoginSchema.optional(),
            tier: z.enum(TIER_IDS).default('T0'),
            github_logins: z.array(githubLoginSchema).default([]),
            trailers: z.array(trailerSchema).default([]),
            /**
             * A trailer alone is a claim anyone can write. With this set, a trailer counts as
             * authenticated on commits GitHub reports verified with the agent's trailer email.
             */
            trailers_verified: z.boolean().default(false),
          })
          .strict(),
      )
      .default([]),
    /** People who may approve (their GitHub login, Slack user and teams): one identity each. */
    approvers: z.array(personSchema).default([]),
    /**
     * Everyone else whose GitHub and Slack identities must be known as one person (admins who
     * request promotions, owners): the same shape as `approvers`, without the right to approve.
     */
    people: z.array(personSchema).default([]),
    council: z
      .object({
        /** Named members (GitHub logins). */
        members: z.array(githubLoginSchema).default([]),
        /**
         * A Slack user group whose members sit on the council too (those mapped to a GitHub login
         * among the approvers). Read with `usergroups.users.list`; each change is a ledger entry.
         */
        slack_usergroup: z
          .string()
          .regex(/^S[A-Z0-9]+$/, 'a Slack user group id looks like S012ABCDEF')
          .optional(),
        quorum: z.number().int().positive(),
        veto: z.boolean().default(false),
        distinct_teams: z.boolean().default(false),
        expiry_hours: z.number().positive().default(72),
      })
      .strict()
      .refine((c) => c.members.length > 0 || c.slack_usergroup, {
        message: 'a council needs members, a slack_usergroup, or both',
        path: ['members'],
      })
      .refine((c) => c.slack_usergroup || c.quorum <= c.members.length, {
        message: 'council quorum cannot be larger than the number of members',
        path: ['quorum'],
      })
      .optional(),
    tiers: z
      .object(Object.fromEntries(TIER_IDS.map((t) => [t, tierOverrideSchema.optional()])))
      .strict()
      .default({}),
    budgets: z
      .object({
        limit: z.number().positive().default(20),
        window_hours: z.number().positive().default(168),
        charges: severityRecord(z.number().nonnegative()).default({}),
        recovery: z.enum(['admin', 'window']).default('admin'),
      })
      .strict()
      .default({ limit: 20, window_hours: 168, charges: {}, recovery: 'admin' }),
    consequences: severityRecord(z.enum(CONSEQUENCES)).default({}),
    slack: z
      .object({
        /** Where approval requests go. */
        approvals_channel: z
          .string()
          .regex(/^[CG][A-Z0-9]+$/, 'a Slack channel id looks like C012ABCDEF')
          .optional(),
        /** Integration event → channel for notifications. */
        notify: z
          .partialRecord(
            z.enum(INTEGRATION_EVENTS),
            z.string().regex(/^[CG][A-Z0-9]+$/, 'a Slack channel id looks like C012ABCDEF'),
          )
          .default({}),
        /** Slack users who may run the /agent commands that change something. */
        admins: z
          .array(z.string().regex(/^[UW][A-Z0-9]+$/, 'a Slack user id looks like U012ABCDEF'))
          .default([]),
        /**
         * Who may run each /agent command, where the default does not fit: the Slack users listed
         * replace the default (admins for commands that change something, everyone for the others).
         */
        commands: z
          .partialRecord(
            z.enum(SLACK_COMMANDS),
            z.array(z.string().regex(/^[UW][A-Z0-9]+$/, 'a Slack user id looks like U012ABCDEF')),
          )
          .default({}),
        /** Where the bug watcher's findings go. */
        findings_channel: z
          .string()
          .regex(/^[CG][A-Z0-9]+$/, 'a Slack channel id looks like C012ABCDEF')
          .optional(),
        /**
         * Each approver who may act on a request also hears of it in a direct message; requests
         * arriving within `window_seconds` of the first are sent together, one message per approver.
         */
        approver_digest: z
          .object({
            enabled: z.boolean().default(true),
            window_seconds: z.number().int().nonnegative().max(3600).default(60),
          })
          .strict()
          .default({ enabled: true, window_seconds: 60 }),
      })
      .strict()
      .default({
        notify: {},
        admins: [],
        commands: {},
        approver_digest: { enabled: true, window_seconds: 60 },
      }),
    promotion: z
      .object({
        /** What an agent needs at its current tier before it may be promoted to the named tier. */
        thresholds: z
          .object(
            Object.fromEntries(
              TIER_IDS.map((t) => [
                t,
                z
                  .object({
                    min_merged_prs: z.number().int().nonnegative(),
                    min_days_at_tier: z.number().nonnegative(),
                    clean_days: z.number().nonnegative(),
                  })
                  .partial()
                  .strict()
                  .optional(),
              ]),
            ),
          )
          .strict()
          .default({}),
        /** Approvals a move to each tier needs; `council` for the council's quorum. */
        approvals: z
          .object(
            Object.fromEntries(
              TIER_IDS.map((t) => [
                t,
                z.union([z.number().int().nonnegative(), z.literal('council')]).optional(),
              ]),
            ),
          )
          .strict()
          .default({}),
      })
      .strict()
      .default({ thresholds: {}, approvals: {} }),
    watchers: z
      .object({
        /** `owner/repo` where each finding is also opened as a GitHub issue (closed when it clears). */
        findings_repository: z
          .string()
          .regex(/^[\w.-]+\/[\w.-]+$/, 'a repository is written owner/repo')
          .optional(),
        /** Labels of those issues; the first also finds them again. */
        issue_labels: z.array(z.string().min(1)).min(1).default(['agent-governance']),
      })
      .strict()
      .default({ issue_labels: ['agent-governance'] }),
    agent_api: z
      .object({
        /** One execution per agent, or one per repository across agents. */
        lock_scope: z.enum(['agent', 'repo']).default('agent'),
        max_lock_ttl_seconds: z.number().int().positive().default(3600),
        /** A heartbeat counts this long; an execution without one is `heartbeat_missed`. */
        heartbeat_ttl_seconds: z.number().int().positive().default(60),
        preflights_per_minute: z.number().int().positive().default(120),
        /** Every call of one agent, whatever it is; past it 429 with Retry-After. */
        requests_per_minute: z.number().int().positive().default(1200),
        /** Calls from one source address without a valid token (missing, bad): brute force, floods. */
        unauthenticated_per_minute: z.number().int().positive().default(60),
        /** Event `data` and session state are summaries and resume points, not payload stores. */
        max_event_data_kb: z.number().int().positive().max(10_240).default(64),
        max_session_checkpoint_kb: z.number().int().positive().max(10_240).default(64),
      })
      .strict()
      .default({
        lock_scope: 'agent',
        max_lock_ttl_seconds: 3600,
        heartbeat_ttl_seconds: 60,
        preflights_per_minute: 120,
        requests_per_minute: 1200,
        unauthenticated_per_minute: 60,
        max_event_data_kb: 64,
        max_session_checkpoint_kb: 64,
      }),
  })
  .strict();

export type OrgConfig = z.infer<typeof orgConfigSchema>;

/** The capabilities of a tier after the organisation's overrides. */
export function tierCapabilities(config: OrgConfig, tier: TierId): TierCapabilities {
  const base = DEFAULT_TIER_CAPABILITIES[tier];
  const o = (config.tiers as Partial<Record<TierId, z.infer<typeof tierOverrideSchema>>>)[tier] ?? {};
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

/**
 * Problems in a config that parses but would not do what its author meant: an approver or council
 * member who is an agent (an agent never approves; it is refused everywhere), one GitHub login or
 * Slack user given to two people.
 */
export function configWarnings(config: OrgConfig): string[] {
  const warnings: string[] = [];
  const agentLogins = new Map<string, string>();
  for (const a of config.agents) {
    agentLogins.set(a.id.toLowerCase(), a.id);
    for (const login of a.github_logins) agentLogins.set(login.toLowerCase(), a.id);
  }
  const isAgent = (login: string) =>
    agentLogins.get(login.toLowerCase()) ?? (login.toLowerCase().endsWith('[bot]') ? login : null);
  for (const [i, a] of config.approvers.entries()) {
    const agent = isAgent(a.github);
    if (agent)
      warnings.push(
        `approvers[${i}]: ${a.github} belongs to agent ${agent}; an agent never approves, so it is refused everywhere`,
      );
  }
  for (const login of config.council?.members ?? []) {
    const agent = isAgent(login);
    if (agent) warnings.push(`council.members: ${login} belongs to agent ${agent}; an agent never approves`);
  }
  const slackUsers = new Map<string, string>();
  for (const p of [...config.approvers, ...config.people]) {
    if (!p.slack) continue;
    const other = slackUsers.get(p.slack);
    if (other && other.toLowerCase() !== p.github.toLowerCase())
      warnings.push(`Slack user ${p.slack} is given to both ${other} and ${p.github}; it counts as ${other}`);
    else slackUsers.set(p.slack, p.github);
  }
  return warnings;
}
