import type { LedgerEntryInput } from '../core/ledger-entries.js';
import type { DecideEntries } from '../ledger/async-ledger.js';
import { type RevocationRecord, revocationsAsync } from '../ledger/queries/revocations.js';
import { revocationStatus } from './revocation-status.js';

/** One effect of a revocation, as a delivery or a failed attempt reports it. */
export interface RevocationEffectReport {
  revocationId: string;
  agentId: string;
  effect: string;
  ok: boolean;
  detail: string;
}

/**
 * The entries one effect's outcome adds to an agent's revocation records (oldest first): the
 * effect, unless it already held or the same failure is recorded, and `revocation.confirmed` once
 * every effect holds. None when the revocation is no longer the agent's newest.
 */
export function revocationEffectEntries(
  records: readonly RevocationRecord[],
  report: RevocationEffectReport,
): LedgerEntryInput[] {
  const { revocationId, agentId, effect, ok, detail } = report;
  const before = revocationStatus(records);
  if (!before || before.revocationId !== revocationId) return [];
  const now = before.effects[effect];
  if (now === 'held' || (!ok && now === 'failed')) return [];
  const entries: LedgerEntryInput[] = [
    {
      type: 'revocation.effect',
      agentId,
      actor: 'governance',
      payload: { revocationId, effect, ok, detail },
    },
  ];
  const after = revocationStatus([
    ...records,
    { type: 'revocation.effect', seq: Number.MAX_SAFE_INTEGER, revocationId, effect, ok },
  ]);
  if (after && !after.confirmed && Object.values(after.effects).every((e) => e === 'held'))
    entries.push({ type: 'revocation.confirmed', agentId, actor: 'governance', payload: { revocationId } });
  return entries;
}

/** The same, decided inside the transaction that appends it (with the delivery it reports, if any). */
export function revocationEffect(report: RevocationEffectReport): DecideEntries {
  return async (view) =>
    revocationEffectEntries(await revocationsAsync.revocationRecordsOf(view.reader, report.agentId), report);
}
