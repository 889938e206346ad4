import type { DecideEntries } from '../ledger/async-ledger.js';
import { revocationsAsync } from '../ledger/queries/revocations.js';
import { effectEntries } from './revocation-calls.js';

/** One effect of a revocation, as a delivery or a failed attempt reports it. */
export interface RevocationEffectReport {
  revocationId: string;
  agentId: string;
  effect: string;
  ok: boolean;
  detail: string;
}

/**
 * Records one effect's outcome (and `confirmed` once all hold), decided from the agent's
 * revocation records inside the transaction that appends it, with the delivery it reports if any:
 * an effect that already held is not recorded again, nor a failure twice, whichever replica asks.
 */
export function revocationEffect(report: RevocationEffectReport): DecideEntries {
  return async (view) =>
    effectEntries(await revocationsAsync.revocationRecordsOf(view.reader, report.agentId), report);
}
