import type { LedgerSource } from '../ledger/ledger.js';
import { allEntries } from '../ledger/queries/admin.js';
import {
  noPassAfterRevocation,
  nothingLiveInVault,
  promotionsOnce,
  revocationsConfirmed,
} from './invariants/agent-invariants.js';
import { checksFinal, consequencesOnce, outboxOnce } from './invariants/effect-invariants.js';
import type { Invariant, InvariantResult, Observed, StandIns } from './invariants/invariant.js';
import {
  chainVerifies,
  deliveriesOnce,
  deliveriesProcessed,
  eventsOnce,
  preflightsRecorded,
} from './invariants/ledger-invariants.js';
import { fencingTokensGrow, oneHolderAtATime } from './invariants/lock-invariants.js';

/** What must hold after any run, however it was broken, in the order a report lists them. */
const INVARIANTS: Invariant[] = [
  chainVerifies,
  deliveriesOnce,
  deliveriesProcessed,
  eventsOnce,
  preflightsRecorded,
  noPassAfterRevocation,
  promotionsOnce,
  oneHolderAtATime,
  fencingTokensGrow,
  revocationsConfirmed,
  nothingLiveInVault,
  consequencesOnce,
  outboxOnce,
  checksFinal,
];

/** Checks every invariant from the ledger and the stand-ins (those that do not apply are left out). */
export function checkInvariants(db: LedgerSource, standIns: StandIns, observed: Observed): InvariantResult[] {
  const input = { db, rows: allEntries(db), standIns, observed };
  return INVARIANTS.map((invariant) => invariant(input)).filter((r): r is InvariantResult => r !== null);
}
