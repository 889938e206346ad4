import type { LedgerFacts } from './chaos-ledger.js';
import {
  noPassAfterRevocation,
  nothingLiveInVault,
  promotionsOnce,
  revocationsConfirmed,
} from './invariants/agent-invariants.js';
import { checksFinal, consequencesOnce, outboxOnce } from './invariants/effect-invariants.js';
import type { Invariant, InvariantResult, Observed, PeriodicSpan, StandIns } from './invariants/invariant.js';
import {
  chainVerifies,
  decidedOnce,
  deliveriesOnce,
  deliveriesProcessed,
  eventsOnce,
  preflightsRecorded,
} from './invariants/ledger-invariants.js';
import {
  fencingTokensGrow,
  leaseFenceGrows,
  oneHolderAtATime,
  periodicWorkAlone,
} from './invariants/lock-invariants.js';

/** What must hold after any run, however it was broken, in the order a report lists them. */
const INVARIANTS: Invariant[] = [
  chainVerifies,
  deliveriesOnce,
  deliveriesProcessed,
  decidedOnce,
  eventsOnce,
  preflightsRecorded,
  noPassAfterRevocation,
  promotionsOnce,
  oneHolderAtATime,
  fencingTokensGrow,
  periodicWorkAlone,
  leaseFenceGrows,
  revocationsConfirmed,
  nothingLiveInVault,
  consequencesOnce,
  outboxOnce,
  checksFinal,
];

/** Checks every invariant from what the ledger holds and the stand-ins (those that do not apply are left out). */
export function checkInvariants(
  facts: LedgerFacts,
  periodic: PeriodicSpan[] | null,
  standIns: StandIns,
  observed: Observed,
): InvariantResult[] {
  const input = { facts, rows: facts.rows, periodic, standIns, observed };
  return INVARIANTS.map((invariant) => invariant(input)).filter((r): r is InvariantResult => r !== null);
}
