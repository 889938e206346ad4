import type { LedgerEntry } from '../core/ledger-entries.js';
import type { IntegrationManager } from '../integrations/integration-manager.js';
import { LedgerFollower } from '../ledger/followers.js';
import type { Ledger } from '../ledger/ledger.js';
import type { Revocations } from './revocations.js';

/**
 * Everything an entry calls for beyond itself, derived by one ledger follower: the rest of a kill
 * switch a violation started, and the calls integrations make (alerts, approval cards, closed
 * cards). Queued in the follower's transaction, with its position, so each entry's consequences are
 * queued exactly once whichever process recorded it (the server, the CLI, another replica) and
 * whenever a server next runs (after a crash, or a CLI change made while it was down).
 */
export class Consequences {
  readonly follower: LedgerFollower;

  constructor(
    ledger: Ledger,
    private readonly revocations: Revocations,
    private readonly integrations: IntegrationManager,
  ) {
    this.follower = new LedgerFollower(ledger, 'consequences', (entry) => this.handle(entry));
  }

  private handle(entry: LedgerEntry): void {
    this.revocations.followEntry(entry);
    this.integrations.queueFor(entry);
  }

  /** Queues what the entries not yet followed call for, then confirms revoke signals. */
  async run(): Promise<number> {
    const followed = this.follower.catchUp();
    // A revocation the follower was moved past is completed too, then every one is confirmed.
    this.revocations.healSkipped();
    await this.revocations.confirmSignals();
    return followed;
  }
}
