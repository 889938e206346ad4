import type { LedgerEntryInput } from '../core/ledger-entries.js';
import type { Governance } from '../governance/governance.js';
import { councilAsync } from '../ledger/queries/council.js';
import type { SlackWebClient } from './slack-deliverer.js';

/**
 * The council as a Slack user group: its members are read (`usergroups.users.list`) and recorded
 * in the ledger when they change, as GitHub logins of the mapped approvers and the Slack users no
 * approver maps (they cannot vote until mapped).
 */
export class CouncilSync {
  private readAt = 0;

  constructor(
    private readonly governance: Governance,
    private readonly client: SlackWebClient,
  ) {}

  /** Reads the group at most every `everyMs`, and records its members when they changed. */
  async sync(now = Date.now(), everyMs = 5 * 60_000): Promise<void> {
    const usergroup = this.governance.config.council?.slack_usergroup;
    if (!usergroup || now - this.readAt < everyMs) return;
    // Not behind the delivery breaker: a missing scope here must not stop messages going out.
    const result = (await this.client.usergroups.users.list({ usergroup })) as { users?: string[] };
    this.readAt = now;
    const { members, unmapped } = this.membersOf(result.users ?? []);
    await this.governance.store.appendDecided(async ({ reader }): Promise<LedgerEntryInput[]> => {
      const before = await councilAsync.latestMembership(reader);
      const same =
        before?.usergroup === usergroup &&
        JSON.stringify(before.members) === JSON.stringify(members) &&
        JSON.stringify(before.unmapped) === JSON.stringify(unmapped);
      if (same) return [];
      return [
        {
          type: 'council.membership',
          agentId: null,
          actor: 'slack',
          payload: { usergroup, members, unmapped },
        },
      ];
    });
    // As `governance.record` did: the state store and the directory follow the new entry now.
    await this.governance.syncState();
  }

  /** The group's users as sorted GitHub logins of mapped approvers, and the sorted unmapped users. */
  private membersOf(users: string[]): { members: string[]; unmapped: string[] } {
    const logins = new Map(
      this.governance.config.approvers.filter((a) => a.slack).map((a) => [a.slack!, a.github]),
    );
    const members = [...new Set(users.filter((u) => logins.has(u)).map((u) => logins.get(u)!))].sort();
    const unmapped = users.filter((u) => !logins.has(u)).sort();
    return { members, unmapped };
  }
}
