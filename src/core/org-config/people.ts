/**
 * Who is who in the organisation config: the agents with their identities and owners, the people
 * (approvers and others, one identity across GitHub and Slack each), and the council.
 */
import { z } from 'zod';
import { agentIdSchema, githubLoginSchema, trailerSchema } from '../agent.js';
import { TIER_IDS } from '../tiers.js';
import { slackUserId } from './slack.js';

/** One person: their GitHub login (the key), Slack user and teams. */
export const personSchema = z
  .object({
    github: githubLoginSchema,
    slack: slackUserId.optional(),
    teams: z.array(z.string().min(1)).default([]),
  })
  .strict();

/** `agents:` each agent's id, name, owner, starting tier and the identities that tie work to it. */
export const agentsSection = z
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
  .default([]);

/** `council:` who sits on it (named, or a Slack user group), its quorum, veto and expiry. */
export const councilSection = z
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
  .optional();
