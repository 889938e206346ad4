import type { LedgerEntry } from '../core/ledger-entries.js';
import type { IntegrationManager } from '../integrations/integration-manager.js';
import type { AsyncLedger, FollowerWork, LedgerView } from '../ledger/async-ledger.js';
import { followerCatchUp } from '../ledger/follower-step.js';
import { approvalsAsync } from '../ledger/queries/approvals.js';
import type { Revocations } from './revocations.js';

/** The consequences follower's name: its position is stored under it. */
export const CONSEQUENCES = 'consequences';

/**
 * Everything an entry calls for beyond itself, derived by one ledger follower: the rest of a kill
 * switch a violation started, and the calls integrations make (alerts, approval cards, closed
 * cards). Decided from the ledger and committed with the follower's position (`followerStep`), so
 * each entry's consequences are queued exactly once whichever process recorded it (the server, the
 * CLI, another replica) and whenever a server next runs (after a crash, or a CLI change made while
 * it was down).
 */
export class Consequences {
  constructor(
    private readonly store: AsyncLedger,
    private readonly revocations: Revocations,
    private readonly integrations: IntegrationManager,
  ) {}

  private async handle(entry: LedgerEntry, view: LedgerView): Promise<FollowerWork> {
    const kill = await this.revocations.followEntry(entry, view);
    const slack = await this.integrations.queueFor(entry, view.reader);
    return {
      entries: [...(kill.entries ?? []), ...slack.entries],
      calls: [...(kill.calls ?? []), ...slack.calls],
    };
  }

  /** Queues what the entries not yet followed call for, then confirms revoke signals. */
  async run(): Promise<number> {
    const { handled, appended } = await followerCatchUp(this.store, CONSEQUENCES, (entry, view) =>
      this.handle(entry, view),
    );
    await this.settleRequests(appended);
    // A revocation the follower was moved past is completed too, then every one is confirmed.
    await this.revocations.healSkipped();
    await this.revocations.confirmSignals();
    return handled;
  }

  /**
   * The request rows of the approval requests the follower closed follow the resolutions it
   * committed (as a vote's do): a decision that may run twice writes no row, and until the row is
   * written, readers find the request resolved in the ledger (`approvalsAsync.resolution`).
   */
  private async settleRequests(appended: readonly LedgerEntry[]): Promise<void> {
    for (const entry of appended)
      if (entry.type === 'approval.resolved' && entry.payload.outcome !== 'expired')
        await approvalsAsync.setState(this.store.reader, entry.payload.outcome, entry.payload.approvalId);
  }
}
