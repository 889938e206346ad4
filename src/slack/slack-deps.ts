import type { Governance } from '../governance/governance.js';
import type { Promotions } from '../governance/promotions.js';
import type { Revocations } from '../governance/revocations.js';
import type { Logger } from '../platform/logger.js';
import type { SlackApprovals } from './slack-approvals.js';

/** What the Slack listeners work with. */
export interface SlackDeps {
  governance: Governance;
  promotions: Promotions;
  revocations: Revocations;
  approvals: SlackApprovals;
  logger: Logger;
  /** Queue a Slack Web API call in the outbox: a reply to the request, caused by no ledger entry. */
  enqueue(
    kind: string,
    payload: Record<string, unknown>,
    orderingKey: string,
    idempotencyKey: string,
  ): Promise<void>;
  /** Ask GitHub to evaluate the PR again (an approval request was decided). */
  reevaluate(installationId: number, repository: string, number: number): Promise<void>;
  /** Where posted messages are, by key, for updates in place. */
  messages: { get(key: string): Promise<{ channel: string; ts: string } | null> };
  /** Direct Web API calls that cannot wait (views.open must follow its trigger within 3 s). */
  openView(triggerId: string, view: Record<string, unknown>): Promise<void>;
}
