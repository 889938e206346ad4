/** Request bodies of the agent API: one zod schema each, which also gives the OpenAPI document. */
import { z } from 'zod';
import { agentIdSchema } from '../core/agent.js';
import { preflightRequestSchema as corePreflightRequestSchema } from '../core/preflight.js';

/**
 * `owner/name` with GitHub's characters: an owner is 1–39 letters, digits or single hyphens, not
 * starting or ending with one; a name is 1–100 letters, digits, `.`, `_` or `-`, not `.` or `..`.
 * GitHub compares both case-insensitively; so do the execution locks.
 */
export const repositorySchema = z
  .string()
  .max(140)
  .regex(
    /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}\/(?!\.{1,2}$)[A-Za-z0-9._-]{1,100}$/,
    'repository is owner/name as on GitHub (letters, digits, "-" in the owner; also "." and "_" in the name)',
  );

export const preflightRequestSchema = corePreflightRequestSchema.extend({ repository: repositorySchema });

const agent = z.string().optional().describe('when given, must be the agent the token belongs to');

export const lockAcquireSchema = z
  .object({
    agent,
    repository: repositorySchema.optional(),
    ttlSeconds: z.number().int().positive(),
  })
  .strict();

/**
 * Whether `key` is one a grant could have answered (`ExecutionLocks.lockKey`): `exec:agent:` and an
 * agent id, or `exec:repo:` and a repository as `repositorySchema` takes it, lower-cased.
 */
function grantable(key: string): boolean {
  const [, scope, name] = /^exec:(agent|repo):(.*)$/s.exec(key) ?? [];
  if (scope === 'agent') return agentIdSchema.safeParse(name).success;
  return scope === 'repo' && name === name!.toLowerCase() && repositorySchema.safeParse(name).success;
}

/** The `lockKey` a grant answered: which lock an extend or release is about, when the token alone is not enough. */
const lockKey = z
  .string()
  .max(200)
  .refine(grantable, 'lockKey is the lockKey a grant answered (exec:agent:… or exec:repo:…)')
  .optional()
  .describe('the lockKey the grant answered; needed when the agent holds two locks with this fencing token');

export const lockExtendSchema = z
  .object({
    agent,
    fencingToken: z.number().int().positive(),
    ttlSeconds: z.number().int().positive(),
    lockKey,
  })
  .strict();
export const lockReleaseSchema = z
  .object({ agent, fencingToken: z.number().int().positive(), lockKey })
  .strict();
export const heartbeatSchema = z
  .object({ agent, fencingToken: z.number().int().positive().optional() })
  .strict();

export const LIFECYCLE_EVENTS = ['plan_created', 'execution_started', 'execution_complete'] as const;
export const lifecycleEventSchema = z
  .object({ agent, event: z.enum(LIFECYCLE_EVENTS), data: z.record(z.string(), z.unknown()).default({}) })
  .strict();

export const sessionCheckpointSchema = z
  .object({ agent, state: z.unknown().refine((v) => v !== undefined, 'state is required') })
  .strict();

export const errorSchema = z.object({ error: z.string(), message: z.string() });
export const preflightResponseSchema = z.object({
  decision: z.enum(['allow', 'deny']),
  reasons: z.array(z.string()),
  checks: z.array(z.object({ check: z.string(), ok: z.boolean(), detail: z.string() })),
  /** The ledger entry that records this answer: the agent's receipt. */
  seq: z.number().int().positive(),
});
export const lockResponseSchema = z.object({
  fencingToken: z.number().int(),
  lockKey: z.string(),
  expiresAt: z.string(),
});
