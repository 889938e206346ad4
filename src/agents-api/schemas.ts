/** Request bodies of the agent API: one zod schema each, which also gives the OpenAPI document. */
import { z } from 'zod';
import { preflightRequestSchema } from '../core/preflight.js';

export { preflightRequestSchema };

const agent = z.string().optional().describe('when given, must be the agent the token belongs to');

export const lockAcquireSchema = z
  .object({
    agent,
    repository: z
      .string()
      .regex(/^[^/\s]+\/[^/\s]+$/, 'repository is owner/name')
      .optional(),
    ttlSeconds: z.number().int().positive(),
  })
  .strict();

export const lockExtendSchema = z
  .object({ agent, fencingToken: z.number().int().positive(), ttlSeconds: z.number().int().positive() })
  .strict();
export const lockReleaseSchema = z.object({ agent, fencingToken: z.number().int().positive() }).strict();
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
