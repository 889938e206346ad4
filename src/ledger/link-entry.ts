import type { LedgerEntry, LedgerEntryInput } from '../core/ledger-entries.js';
import { entryHash } from './entry-hash.js';
import type { LedgerHead } from './ledger.js';

/** A validated input linked to `head`: the entry as stored, and its payload as the text hashed. */
export function linkEntry(
  input: LedgerEntryInput,
  head: LedgerHead,
  ts: string,
): { entry: LedgerEntry; payloadText: string } {
  const seq = head.seq + 1;
  const payloadText = JSON.stringify(input.payload);
  const hash = entryHash({
    seq,
    ts,
    type: input.type,
    agentId: input.agentId,
    actor: input.actor,
    payload: payloadText,
    prevHash: head.hash,
  });
  return { entry: { ...input, seq, ts, prevHash: head.hash, hash } as LedgerEntry, payloadText };
}
