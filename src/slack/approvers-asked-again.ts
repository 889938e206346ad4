import { approvalKeyOf, isApprovalKey } from '../core/approval-key.js';
import type { LedgerEntry, LedgerPayload } from '../core/ledger-entries.js';
import type { Governance } from '../governance/governance.js';
import type { LedgerReader } from '../ledger/ledger-reader.js';
import type { OutboxMessageInput } from '../ledger/outbox.js';
import { approvalsAsync } from '../ledger/queries/approvals.js';
import { decisionsAsync } from '../ledger/queries/decisions.js';
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
export async function approversAskedAgain(
  governance: Governance,
  approvals: SlackApprovals,
  entry: Extract<LedgerEntry, { type: 'check_run.button' }>,
  reader: LedgerReader,
): Promise<OutboxMessageInput[]> {
  const click = entry.payload;
  const channel = governance.config.slack.approvals_channel;
  if (!channel || !click.accepted || click.button !== 'ask_approvers' || click.number === null) return [];
  const pr = { repository: click.repository, number: click.number, headSha: click.headSha };
  if (!isApprovalKey(pr)) return [];
  const key = approvalKeyOf(pr);
  if (!(await approvals.waits(key, reader))) return [];
  const context =
    (await approvals.request(key, reader)) ??
    (await requestFromDecision(governance, approvals, click, reader));
  if (!context) return [];
  // Resolved in the ledger before its row says so (a vote or a closing just committed): over.
  if (await approvalsAsync.resolution(reader, context.agentId, key)) return [];
  const card = await approvals.whereIs(key, reader);
  const tallies = await approvals.tallies(context, reader);
  const mentions = approvals.slackUsersOf(tallies).map((u) => `<@${u}>`);
  const needs = tallies.filter((t) => t.state !== 'approved').map((t) => t.description);
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
async function requestFromDecision(
  governance: Governance,
  approvals: SlackApprovals,
  click: Click,
  reader: LedgerReader,
): Promise<ApprovalContext | null> {
  const newest = await decisionsAsync.newestDecision(reader, click.repository, click.number!);
  const decision = newest?.payload;
  if (!newest?.agentId || !decision || decision.headSha !== click.headSha) return null;
  if (decision.outcome !== 'require_approval') return null;
  const since = await decisionsAsync.waitingSince(reader, click.repository, click.number!, click.headSha);
  const hours = decision.gates?.[0]?.expiryHours ?? 72;
  const from = since ? Date.parse(since) : governance.clock.ms();
  const expiresAt = new Date(from + hours * 3600_000);
  return approvals.contextFor({ ...decision, agentId: newest.agentId }, expiresAt, reader);
}
