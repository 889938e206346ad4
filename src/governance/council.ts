import type { OrgConfig } from '../core/org-config.js';
import type { Ledger } from '../ledger/ledger.js';
import { councilMembershipBetween } from '../ledger/queries/decisions.js';

/** The council as it stands now: its named members and its Slack user group as last read. */
export class Council {
  /** The user group's members as of ledger sequence `seq`, followed incrementally. */
  private read: { seq: number; group: string[] } = { seq: 0, group: [] };

  constructor(
    private readonly ledger: Ledger,
    private readonly config: OrgConfig,
  ) {}

  /**
   * Who sits on the council now: the named members and, with a Slack user group, its members as last
   * read into the ledger (`council.membership`). Followed incrementally from the ledger.
   */
  members(): string[] {
    const council = this.config.council;
    if (!council) return [];
    if (!council.slack_usergroup) return council.members;
    const head = this.ledger.head().seq;
    if (head > this.read.seq) {
      const group = councilMembershipBetween(this.ledger, this.read.seq, head);
      this.read = { seq: head, group: group ?? this.read.group };
    }
    return [...new Set([...council.members, ...this.read.group])].sort();
  }

  /** The organisation config with the council's members as they stand now (for the pure core). */
  configWithCouncil(): OrgConfig {
    const council = this.config.council;
    if (!council?.slack_usergroup) return this.config;
    return { ...this.config, council: { ...council, members: this.members() } };
  }
}
