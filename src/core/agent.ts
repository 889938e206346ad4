import { z } from 'zod';
import { AGENT_STATUSES } from './lifecycle.js';
import { TIER_IDS } from './tiers.js';

/** An agent id is a slug: it appears in Redis keys, Vault paths and Slack commands. */
export const agentIdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'an agent id is a lowercase slug: letters, digits and dashes');

/** `Name <email>` as it appears after `Co-Authored-By:` in a commit message. */
export const trailerSchema = z
  .string()
  .regex(/^[^<>\n]+ <[^<>\s]+@[^<>\s]+>$/, 'a trailer looks like "Name <email@example.com>"');

export const githubLoginSchema = z
  .string()
  .regex(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\[bot\])?$/, 'not a GitHub login');

export const agentIdentitiesSchema = z.object({
  githubLogins: z.array(githubLoginSchema).default([]),
  trailers: z.array(trailerSchema).default([]),
});
export type AgentIdentities = z.infer<typeof agentIdentitiesSchema>;

/** An agent as the derived state knows it. Rebuilt from the ledger; cached in the state store. */
export const agentRecordSchema = z.object({
  id: agentIdSchema,
  name: z.string().min(1),
  owner: z.string().nullable(),
  tier: z.enum(TIER_IDS),
  status: z.enum(AGENT_STATUSES),
  identities: agentIdentitiesSchema,
  /** sha256 of the agent's API token; the token itself is never stored. */
  tokenHash: z.string().nullable(),
  registeredAt: z.string(),
  tierSince: z.string(),
});
export type AgentRecord = z.infer<typeof agentRecordSchema>;
