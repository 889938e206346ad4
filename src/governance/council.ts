import type { OrgConfig } from '../core/org-config.js';
import type { AsyncLedger } from '../ledger/async-ledger.js';
import type { LedgerReader } from '../ledger/ledger-reader.js';
import { councilAsync } from '../ledger/queries/council.js';
import { decisionsAsync } from '../ledger/queries/decisions.js';

/** The council as it stands now: its named members and its Slack user group as last read. */
export class Council {
  /** The user group's members as of ledger sequence `seq`, followed incrementally. */
  private read: { seq: number; group: string[] } = { seq: 0, group: [] };

  constructor(
    private readonly store: AsyncLedger,
    private readonly config: OrgConfig,
  ) {}

  /**
   * Who sits on the council now: the named members and, with a Slack user group, its members as last
   * read into the ledger (`council.membership`). Followed incrementally from the ledger; read
   * through `reader` (a decision's) when given.
   */
  async members(reader?: LedgerReader): Promise<string[]> {
    const council = this.config.council;
    if (!council) return [];
    if (!council.slack_usergroup) return council.members;
    if (reader) {
      // Through a decision's view: the group as the ledger stands there, not as followed here.
      const read = await councilAsync.latestMembership(reader);
      return [...new Set([...council.members, ...(read?.members ?? [])])].sort();
    }
    const head = (await this.store.head()).seq;
    const from = this.read;
    if (head > from.seq) {
      const group = await decisionsAsync.councilMembershipBetween(this.store.reader, from.seq, head);
      // Two reads at once: the one that read further stands.
      if (head > this.read.seq) this.read = { seq: head, group: group ?? from.group };
    }
    return [...new Set([...council.members, ...this.read.group])].sort();
  }

  /** The organisation config with the council's members as they stand now (for the pure core). */
  async configWithCouncil(): Promise<OrgConfig> {
    const council = this.config.council;
    if (!council?.slack_usergroup) return this.config;
    return { ...this.config, council: { ...council, members: await this.members() } };
  }
}
