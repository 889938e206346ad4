import type { LedgerEntryInput } from '../core/ledger-entries.js';
import {
  type AsyncLedger,
  type FollowerHandler,
  FollowerMovedError,
  type FollowerStep,
  type FollowUp,
} from './async-ledger.js';

/**
 * One step of a ledger follower on either engine: reads its stored position and up to `limit`
 * entries after it, then handles them in one decided append (`appendDecided` with the `follower`
 * option), so the entries and calls the handlers chose and the new position commit together, or
 * none of them. A crash before the commit leaves everything undone and the next step does the work
 * again; after it, everything is done. Any process or replica may step a follower: when two read
 * the same position, one moves it and the other's decision writes nothing (`FollowerMovedError`,
 * returned here as a step that handled nothing).
 *
 * The batch ends right after the first entry whose handler appends entries: the next entry's
 * handler then reads the ledger with them in it (as the synchronous follower's handlers did, each
 * after the appends of those before). Entries whose handlers ask for nothing cost no query.
 */
export async function followerStep(
  ledger: AsyncLedger,
  name: string,
  handle: FollowerHandler,
  limit = 200,
): Promise<FollowerStep> {
  const from = await ledger.followers.position(name);
  const read = await ledger.entriesAfter(from, limit);
  const last = read.at(-1);
  if (!last) return { handled: 0, appended: [] };
  let handled = 0;
  try {
    const appended = await ledger.appendDecided(
      async (view) => {
        const entries: LedgerEntryInput[] = [];
        const followUps: FollowUp[] = [];
        handled = 0;
        for (const entry of read) {
          const work = await handle(entry, view);
          handled += 1;
          for (const message of work.calls ?? []) followUps.push({ seq: entry.seq, message });
          if (work.entries?.length) {
            entries.push(...work.entries);
            break;
          }
        }
        return { entries, followUps, followedTo: read[handled - 1]!.seq };
      },
      { follower: { name, from, to: last.seq } },
    );
    return { handled, appended };
  } catch (error) {
    if (error instanceof FollowerMovedError) return { handled: 0, appended: [] };
    throw error;
  }
}

/** Steps the follower until it has caught up with the head; how many entries it handled, and what it appended. */
export async function followerCatchUp(
  ledger: AsyncLedger,
  name: string,
  handle: FollowerHandler,
  limit = 200,
): Promise<FollowerStep> {
  const total: FollowerStep = { handled: 0, appended: [] };
  for (;;) {
    const step = await ledger.followers.step(name, handle, limit);
    if (step.handled === 0) return total;
    total.handled += step.handled;
    total.appended.push(...step.appended);
  }
}
