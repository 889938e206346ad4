/**
 * How far the organisation trusts its agents: tier overrides, the error budget, the consequence of
 * each severity, and what a promotion takes.
 */
import { z } from 'zod';
import { AGENT_ACTIONS } from '../actions.js';
import { TIER_IDS } from '../tiers.js';
import { CONSEQUENCES, SEVERITIES } from '../violations.js';

/** What the organisation changes of one tier's built-in capabilities. */
export const tierOverrideSchema = z
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
export type TierOverride = z.infer<typeof tierOverrideSchema>;

/** One optional value per severity. */
const severityRecord = <T extends z.ZodType>(value: T) =>
  z
    .object(
      Object.fromEntries(SEVERITIES.map((s) => [s, value.optional()])) as Record<
        (typeof SEVERITIES)[number],
        z.ZodOptional<T>
      >,
    )
    .strict();

/** `tiers:` overrides by tier. */
export const tiersSection = z
  .object(Object.fromEntries(TIER_IDS.map((t) => [t, tierOverrideSchema.optional()])))
  .strict()
  .default({});

/** `budgets:` the error budget: its limit, window, charge per severity and how it recovers. */
export const budgetsSection = z
  .object({
    limit: z.number().positive().default(20),
    window_hours: z.number().positive().default(168),
    charges: severityRecord(z.number().nonnegative()).default({}),
    recovery: z.enum(['admin', 'window']).default('admin'),
  })
  .strict()
  .default({ limit: 20, window_hours: 168, charges: {}, recovery: 'admin' });

/** `consequences:` what a violation of each severity does, where the default does not fit. */
export const consequencesSection = severityRecord(z.enum(CONSEQUENCES)).default({});

/** `promotion:` what an agent needs at its tier before moving up, and the approvals a move takes. */
export const promotionSection = z
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
  .default({ thresholds: {}, approvals: {} });
