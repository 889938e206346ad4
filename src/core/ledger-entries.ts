/**
 * The types of ledger entries and the shape of each payload. The ledger stores any of these;
 * projections and the state rebuild read them back through the same schemas. The payloads are
 * written by domain in `entry-payloads/`.
 */
import type { z } from 'zod';
import { agentIdSchema } from './agent.js';
import { agentApiPayloadSchemas } from './entry-payloads/agent-api.js';
import { agentPayloadSchemas } from './entry-payloads/agents.js';
import { operationsPayloadSchemas } from './entry-payloads/operations.js';
import { pullRequestPayloadSchemas } from './entry-payloads/pull-requests.js';

export const ledgerPayloadSchemas = {
  ...agentPayloadSchemas,
  ...pullRequestPayloadSchemas,
  ...agentApiPayloadSchemas,
  ...operationsPayloadSchemas,
} as const;

export type LedgerEntryType = keyof typeof ledgerPayloadSchemas;
export const LEDGER_ENTRY_TYPES = Object.keys(ledgerPayloadSchemas) as LedgerEntryType[];
export type LedgerPayload<T extends LedgerEntryType> = z.infer<(typeof ledgerPayloadSchemas)[T]>;

/** What a caller hands the ledger. The ledger adds sequence, time and hashes. */
export type LedgerEntryInput = {
  [T in LedgerEntryType]: { type: T; agentId: string | null; actor: string; payload: LedgerPayload<T> };
}[LedgerEntryType];

/** An entry as it stands in the chain. */
export type LedgerEntry = LedgerEntryInput & {
  seq: number;
  ts: string;
  prevHash: string;
  hash: string;
};

export const ledgerAgentIdSchema = agentIdSchema.nullable();

export function isLedgerEntryType(value: string): value is LedgerEntryType {
  return Object.hasOwn(ledgerPayloadSchemas, value);
}
