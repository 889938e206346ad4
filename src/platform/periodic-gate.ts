/**
 * Runs one piece of the shared periodic work (`what`) if this replica holds the periodic-work
 * lease at that moment; otherwise does nothing. Each piece asks again, so a replica that lost the
 * lease midway starts nothing more.
 */
export type PeriodicGate = (what: string, work: () => Promise<unknown>) => Promise<void>;

/** Every replica's gate when it runs alone (no lease to hold): the work always runs. */
export const ALWAYS: PeriodicGate = async (_what, work) => {
  await work();
};
