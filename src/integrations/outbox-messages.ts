/**
 * Every kind of call the outbox carries, one schema each. A message is parsed when it is read back
 * (a row written by an older version, or hand-edited, is refused with the reason, never cast), so a
 * deliverer receives a value of its kind's type.
 */
import { z } from 'zod';
import type { CheckRunRender } from '../core/policy/render-check-run.js';
import { type OutboxMessage, UNREADABLE_PAYLOAD } from '../ledger/outbox.js';
import type { ApprovalContext } from '../slack/blocks.js';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const render = z.custom<CheckRunRender>(
  (v) => isObject(v) && typeof v.status === 'string' && isObject(v.output),
  'a check-run render (status, output)',
);
const approvalContext = z.custom<ApprovalContext>(
  (v) => isObject(v) && typeof v.approvalKey === 'string',
  'an approval context',
);

/** Which revocation effect a call carries out: recorded when the call is delivered. */
const revocationEffect = z.object({ revocationId: z.string(), agentId: z.string(), effect: z.string() });
export type RevocationEffect = z.infer<typeof revocationEffect>;

const checkRun = z.object({
  installationId: z.number().int(),
  owner: z.string(),
  repo: z.string(),
  headSha: z.string(),
  name: z.string(),
  render,
  number: z.number().int().optional(),
});

const slackCall = z.looseObject({
  channel: z.string().optional(),
  approval: z.object({ context: approvalContext, installationId: z.number().int().nullable() }).optional(),
  messageKey: z.string().optional(),
  /** What one alert was about, listed when identical alerts are gathered. */
  item: z.string().nullable().optional(),
});

export const OUTBOX_SCHEMAS = {
  'check_run.upsert': checkRun.extend({
    /** Rows written before revocations had their own kind carry their effect here. */
    revocation: revocationEffect.optional(),
  }),
  /** A revoked agent's open PR: its check fails with the reason; the effect is recorded on delivery. */
  'revocation.fail_check': checkRun.extend({ revocation: revocationEffect }),
  finding_issue: z.object({
    action: z.enum(['open', 'close']),
    repository: z.string(),
    labels: z.array(z.string()),
    key: z.string(),
    rule: z.string().optional(),
    summary: z.string().optional(),
    evidence: z.array(z.string()).optional(),
  }),
  'deployment_protection_rule.review': z.object({
    installationId: z.number().int(),
    owner: z.string(),
    repo: z.string(),
    runId: z.number().int(),
    environment: z.string(),
    state: z.enum(['approved', 'rejected']).nullable(),
    comment: z.string(),
  }),
  'chat.postMessage': slackCall,
  'chat.update': slackCall,
  'chat.postEphemeral': slackCall,
  'views.publish': slackCall,
  'approver.digest': z.object({ user: z.string(), context: approvalContext }),
  'vault.set_tier': z.object({ agentId: z.string(), tier: z.string(), promotionId: z.string() }),
  'vault.revoke_agent': z.object({ agentId: z.string(), revocation: revocationEffect }),
} as const;

export type OutboxKind = keyof typeof OUTBOX_SCHEMAS;
export type OutboxPayload<K extends OutboxKind> = z.infer<(typeof OUTBOX_SCHEMAS)[K]>;

/** A message read back and parsed: `kind` tells its payload's type. */
export type TypedOutboxMessage = {
  [K in OutboxKind]: Omit<OutboxMessage, 'kind' | 'payload'> & { kind: K; payload: OutboxPayload<K> };
}[OutboxKind];

export class UnreadableOutboxMessage extends Error {}

export function isOutboxKind(kind: string): kind is OutboxKind {
  return Object.hasOwn(OUTBOX_SCHEMAS, kind);
}

/** The message with its payload parsed for its kind; throws `UnreadableOutboxMessage` with the reason. */
export function parseOutboxMessage(message: OutboxMessage): TypedOutboxMessage {
  if (message.payload === UNREADABLE_PAYLOAD)
    throw new UnreadableOutboxMessage(`outbox ${message.kind} #${message.id}: the payload is not JSON`);
  if (!isOutboxKind(message.kind))
    throw new UnreadableOutboxMessage(`unknown outbox kind \`${message.kind}\``);
  const parsed = OUTBOX_SCHEMAS[message.kind].safeParse(message.payload);
  if (!parsed.success)
    throw new UnreadableOutboxMessage(
      `outbox ${message.kind} #${message.id}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  return { ...message, payload: parsed.data } as TypedOutboxMessage;
}
