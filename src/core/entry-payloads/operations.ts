/**
 * The service's own records: checkpoints and the key that signs them, webhook deliveries accepted,
 * and the bug watcher's findings.
 */
import { z } from 'zod';

export const operationsPayloadSchemas = {
  'checkpoint.created': z.object({ checkpointId: z.string(), headSeq: z.number().int() }),
  /**
   * The public key (ed25519, base64 SPKI) that signs this ledger's checkpoints, written once, with
   * the first checkpoint. Verify checks every checkpoint against it, never against the key a
   * checkpoint carries.
   */
  'ledger.key_pinned': z.object({ publicKey: z.string().min(1) }),
  /** A webhook delivery accepted into the inbox. */
  'delivery.received': z.object({
    source: z.enum(['github', 'slack']),
    deliveryId: z.string().min(1),
    event: z.string().min(1),
    action: z.string().nullable(),
    repository: z.string().nullable(),
  }),
  /** A pattern the bug watcher found; raised once while it stays true, then resolved. */
  'finding.raised': z.object({
    key: z.string(),
    rule: z.string(),
    summary: z.string(),
    evidence: z.array(z.string()),
  }),
  'finding.resolved': z.object({ key: z.string() }),
} as const;
