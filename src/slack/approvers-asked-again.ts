import { approvalKeyOf, isApprovalKey } from '../core/approval-key.js';
import type { LedgerEntry, LedgerPayload } from '../core/ledger-entries.js';
import type { Governance } from '../governance/governance.js';
import type { OutboxMessageInput } from '../ledger/outbox.js';
import { newestDecision, waitingSince } from '../ledger/queries/decisions.js';
import type { ApprovalContext } from './blocks.js';
import type { SlackApprovals } from './slack-approvals.js';

type Click = LedgerPayload<'check_run.button'>;

/**
 * An accepted "Ask approvers again" on a check: one message in the approvals channel, in the
 * request card's thread (and shown in the channel) when the card is known, mentioning everyone who
 * may still approve, with what each waiting gate still needs. Nothing when the request is over by
 * the time the click is followed (decided, or the PR moved on). Keyed by the click's entry, so a
 * replay queues nothing twice.
 */
export function approversAskedAgain(
  governance: Governance,
  approvals: SlackApprovals,
  entry: Extract<LedgerEntry, { type: 'check_run.button' }>,
): OutboxMessageInput[] {
  const click = entry.payload;
  const channel = governance.config.slack.approvals_channel;
  if (!channel || !click.accepted || click.button !== 'ask_approvers' || click.number === null) return [];
  const pr = { repository: click.repository, number: click.number, headSha: click.headSha };
  if (!isApprovalKey(pr)) return [];
  const key = approvalKeyOf(pr);
  if (!approvals.isPending(key)) return [];
  const context = approvals.request(key) ?? requestFromDecision(governance, approvals, click);
  if (!context) return [];
  const card = approvals.message(key);
  const mentions = approvals.approversOf(context).map((u) => `<@${u}>`);
  const needs = approvals
    .tallies(context)
    .filter((t) => t.state !== 'approved')
    .map((t) => t.description);
  const text = [
    ...mentions,
    `${click.sender} asks again: <${context.url}|${context.repository}#${context.number}> by \`${context.agentId}\` waits for approval.`,
    ...needs.map((n) => `${n}.`),
  ].join(' ');
  return [
    {
      target: 'slack',
      kind: 'chat.postMessage',
      idempotencyKey: `slack:asked-again:${entry.seq}`,
      orderingKey: `approval:${key}`,
      payload: card
        ? { channel: card.channel, text, thread_ts: card.ts, reply_broadcast: true }
        : { channel, text },
    },
  ];
}

/** The request as its card would show it, when no card was posted for it (yet). */
function requestFromDecision(
  governance: Governance,
  approvals: SlackApprovals,
  click: Click,
): ApprovalContext | null {
  const newest = newestDecision(governance.ledger, click.repository, click.number!);
  const decision = newest?.payload;
  if (!newest?.agentId || !decision || decision.headSha !== click.headSha) return null;
  if (decision.outcome !== 'require_approval') return null;
  const since = waitingSince(governance.ledger, click.repository, click.number!, click.headSha);
  const hours = decision.gates?.[0]?.expiryHours ?? 72;
  const from = since ? Date.parse(since) : governance.clock.ms();
  return approvals.contextFor({ ...decision, agentId: newest.agentId }, new Date(from + hours * 3600_000));
}
