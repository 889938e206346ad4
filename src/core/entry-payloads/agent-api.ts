/**
 * What agents do through the agent API: preflights, execution locks, session checkpoints, the
 * lifecycle events they report, and the requests it refused.
 */
import { z } from 'zod';
import { INTEGRATION_EVENTS } from '../lifecycle.js';

export const agentApiPayloadSchemas = {
  'preflight.decided': z.object({
    action: z.string(),
    repository: z.string(),
    decision: z.enum(['allow', 'deny']),
    reasons: z.array(z.string()),
  }),
  'execution.lock': z.object({
    /** `lost`: granted by the state store, which restarted before the grant was recorded; not granted. */
    op: z.enum(['acquired', 'extended', 'released', 'expired', 'refused', 'lost']),
    lockKey: z.string(),
    token: z.number().int().nullable(),
    detail: z.string(),
    /** The TTL an acquisition or extension granted (absent on entries written before it was recorded). */
    ttlSeconds: z.number().int().positive().optional(),
    /**
     * Which grant an `acquired` or `lost` entry is about (the holder the state store knows it by):
     * two grants of one agent with one token, after a store rebuilt from the ledger, are told apart.
     */
    grant: z.string().optional(),
  }),
  'session.checkpoint_saved': z.object({ sha256: z.string(), bytes: z.number().int() }),
  /** A request the agent API refused: who claimed to be whom, and why. Nothing else was recorded. */
  'api.refused': z.object({
    method: z.string(),
    path: z.string(),
    status: z.number().int(),
    reason: z.string(),
    /**
     * Refusals counted in one entry: unauthenticated and rate-limited ones are recorded at most
     * once a minute per source address (or agent), with how many there were since the last entry.
     */
    count: z.number().int().positive().optional(),
    /** The source address of unauthenticated refusals. */
    source: z.string().optional(),
    /** The refusals counted, by error code. */
    codes: z.record(z.string(), z.number().int().nonnegative()).optional(),
  }),
  'integration.event': z.object({
    event: z.enum(INTEGRATION_EVENTS),
    data: z.record(z.string(), z.unknown()),
  }),
} as const;
