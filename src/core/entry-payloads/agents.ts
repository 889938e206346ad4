/**
 * An agent's life: registration, token, status and tier, violations, revocations, promotions and
 * the Vault credentials it was given.
 */
import { z } from 'zod';
import { agentIdentitiesSchema } from '../agent.js';
import { AGENT_STATUSES } from '../lifecycle.js';
import { TIER_IDS } from '../tiers.js';
import { CONSEQUENCES, SEVERITIES, VIOLATION_TYPES } from '../violations.js';

const tier = z.enum(TIER_IDS);
/**
 * A revocation or pause that took effect while the ledger could not be written, recorded later
 * from the safety journal: when it was asked for (and took effect), and its journal id.
 */
const queuedSafetyAction = {
  requestedAt: z.string().optional(),
  journalId: z.string().optional(),
};

export const agentPayloadSchemas = {
  'agent.registered': z.object({
    name: z.string(),
    owner: z.string().nullable(),
    tier,
    identities: agentIdentitiesSchema,
    tokenHash: z.string().nullable(),
  }),
  'agent.token_rotated': z.object({ tokenHash: z.string() }),
  'agent.status_changed': z.object({
    from: z.enum(AGENT_STATUSES),
    to: z.enum(AGENT_STATUSES),
    reason: z.string(),
    ...queuedSafetyAction,
  }),
  'agent.tier_changed': z.object({
    from: tier,
    to: tier,
    reason: z.string(),
    kind: z.enum(['promotion', 'demotion', 'reinstatement']),
  }),
  'violation.recorded': z.object({
    violation: z.enum(VIOLATION_TYPES),
    severity: z.enum(SEVERITIES),
    consequence: z.enum(CONSEQUENCES),
    budgetCharge: z.number().nonnegative(),
    details: z.string(),
    source: z.string(),
  }),
  'revocation.requested': z.object({
    revocationId: z.string(),
    reason: z.string(),
    effects: z.array(z.string()),
    ...queuedSafetyAction,
  }),
  'revocation.effect': z.object({
    revocationId: z.string(),
    effect: z.string(),
    ok: z.boolean(),
    detail: z.string(),
  }),
  'revocation.confirmed': z.object({ revocationId: z.string() }),
  'promotion.requested': z.object({
    promotionId: z.string(),
    kind: z.enum(['promotion', 'demotion', 'reinstatement']),
    from: tier,
    to: tier,
    required: z.number().int().nonnegative(),
    council: z.boolean(),
    reason: z.string(),
  }),
  'promotion.voted': z.object({
    promotionId: z.string(),
    approver: z.string(),
    verdict: z.enum(['approve', 'reject']),
    reason: z.string(),
  }),
  'promotion.resolved': z.object({
    promotionId: z.string(),
    outcome: z.enum(['applied', 'rejected']),
    detail: z.string(),
  }),
  'vault.token_issued': z.object({ accessor: z.string(), ttlSeconds: z.number().int() }),
  'vault.calls': z.object({
    purpose: z.string(),
    calls: z.array(z.object({ op: z.string(), path: z.string(), ok: z.boolean(), detail: z.string() })),
  }),
} as const;
