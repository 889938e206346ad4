/** Block Kit messages, built by pure functions from what the ledger knows. */
import type { GateRule, GateTally } from '../core/policy/gate-tally.js';
import { describeSuggestion, type Suggestion } from '../core/suggestions.js';
import { type TierId, tierLabel } from '../core/tiers.js';
import type { PromotionStatus } from '../governance/promotion-status.js';

export interface ApprovalContext {
  approvalKey: string;
  repository: string;
  number: number;
  title: string;
  url: string;
  agentId: string;
  tier: TierId;
  changedFiles: number;
  changedLines: number;
  /** Rules that fired, one line each. */
  reasons: string[];
  required: number;
  council: boolean;
  veto: boolean;
  /** GitHub logins that may approve (empty: any mapped approver). */
  eligible: string[];
  allowOwner: boolean;
  owner: string | null;
  expiresAt: string;
  /** What expiry does: reject the PR, or escalate to the admins (and keep waiting). */
  onExpiry: 'reject' | 'escalate';
  /** Every gate the PR waits for, as the one tally needs it (absent on requests stored before). */
  gates?: GateRule[];
  /** What approvals are bound to, and who never approves (absent on requests stored before). */
  diffHash?: string;
  policyVersion?: string;
  author?: string;
}

export interface Vote {
  approver: string;
  verdict: 'approve' | 'reject';
  reason?: string;
}

type Block = Record<string, unknown>;

const TALLY_ICON: Record<GateTally['state'], string> = {
  approved: '✅',
  waiting: '⏳',
  rejected: '⛔',
  vetoed: '⛔',
  expired: '⌛',
  unreachable: '🚫',
};
const mrkdwn = (text: string) => ({ type: 'mrkdwn', text });

export type CardOutcome = 'pending' | 'approved' | 'rejected' | 'expired' | 'closed';

export function approvalRequestBlocks(
  c: ApprovalContext,
  votes: Vote[],
  outcome: CardOutcome,
  /** Each gate's state from the one tally; a card never says approved while any gate waits. */
  tallies: readonly GateTally[] = [],
  /** Why a request is over when it was closed from outside (a push, a revocation, a review). */
  closedBecause?: string,
): Block[] {
  return [...requestFactBlocks(c), ...standingBlocks(c.approvalKey, votes, outcome, tallies, closedBecause)];
}

/** Where a request stands: each gate's tally, the votes, and the buttons or how it ended. */
export function standingBlocks(
  approvalKey: string,
  votes: Vote[],
  outcome: CardOutcome,
  tallies: readonly GateTally[],
  closedBecause: string | undefined,
): Block[] {
  const blocks: Block[] = [];
  if (tallies.length) {
    blocks.push({
      type: 'section',
      text: mrkdwn(
        tallies
          .map((t) => `${TALLY_ICON[t.state]} ${escapeMrkdwn(t.description.replaceAll('`', ''))}`)
          .join('\n'),
      ),
    });
  }
  if (votes.length) {
    blocks.push({
      type: 'section',
      text: mrkdwn(
        votes
          .map(
            (v) =>
              `${v.verdict === 'approve' ? '✅' : '⛔'} ${v.approver}${v.reason ? `: ${escapeMrkdwn(v.reason)}` : ''}`,
          )
          .join('\n'),
      ),
    });
  }
  blocks.push(outcome === 'pending' ? voteButtons(approvalKey) : outcomeBlock(outcome, closedBecause));
  return blocks;
}

/** What a request is: the PR, the agent and its tier, the diff, who is needed, why, and the deadline. */
function requestFactBlocks(c: ApprovalContext): Block[] {
  const need = c.council
    ? `council: ${c.required} of ${c.eligible.length}${c.veto ? ' with veto' : ''}`
    : `${c.required} approver(s)`;
  return [
    { type: 'header', text: { type: 'plain_text', text: `Approval needed: ${c.repository}#${c.number}` } },
    {
      type: 'section',
      text: mrkdwn(`*<${c.url}|${escapeMrkdwn(c.title)}>*`),
      fields: [
        mrkdwn(`*Agent*\n\`${c.agentId}\``),
        mrkdwn(`*Tier*\n${tierLabel(c.tier)}`),
        mrkdwn(`*Diff*\n${c.changedFiles} files, ${c.changedLines} lines`),
        mrkdwn(`*Needs*\n${need}`),
      ],
    },
    {
      type: 'section',
      text: mrkdwn(
        `*Why*\n${c.reasons.map((r) => `• ${escapeMrkdwn(r)}`).join('\n') || '• the policy asks for a person'}`,
      ),
    },
    { type: 'context', elements: [mrkdwn(`Deadline ${c.expiresAt}; expiry never approves.`)] },
  ];
}

/** Approve and Reject, each carrying the request's key back as its value. */
function voteButtons(approvalKey: string): Block {
  return {
    type: 'actions',
    block_id: 'approval',
    elements: [
      {
        type: 'button',
        action_id: 'approval_approve',
        style: 'primary',
        text: { type: 'plain_text', text: 'Approve' },
        value: approvalKey,
      },
      {
        type: 'button',
        action_id: 'approval_reject',
        style: 'danger',
        text: { type: 'plain_text', text: 'Reject' },
        value: approvalKey,
      },
    ],
  };
}

const OUTCOME_LABEL: Record<Exclude<CardOutcome, 'pending'>, string> = {
  approved: 'Approved',
  rejected: 'Rejected',
  expired: 'Expired',
  closed: 'Closed',
};

/** How a request ended, and why when it was closed from outside. */
function outcomeBlock(outcome: Exclude<CardOutcome, 'pending'>, closedBecause?: string): Block {
  return {
    type: 'section',
    text: mrkdwn(`*${OUTCOME_LABEL[outcome]}*${closedBecause ? `: ${escapeMrkdwn(closedBecause)}` : ''}`),
  };
}

export function rejectReasonModal(approvalKey: string): Record<string, unknown> {
  return {
    type: 'modal',
    callback_id: 'approval_reject_reason',
    private_metadata: approvalKey,
    title: { type: 'plain_text', text: 'Reject' },
    submit: { type: 'plain_text', text: 'Reject' },
    blocks: [
      {
        type: 'input',
        block_id: 'reason',
        label: { type: 'plain_text', text: 'Why? The agent and its owner will see this.' },
        element: { type: 'plain_text_input', action_id: 'value', multiline: true, min_length: 3 },
      },
    ],
  };
}

/** Slack's mrkdwn control characters. */
export function escapeMrkdwn(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/** What a promotion request message shows: the machine's own status of it. */
export type PromotionView = PromotionStatus;

export function promotionRequestBlocks(p: PromotionView): Block[] {
  const need = p.council ? `the council: ${p.required} vote(s)` : `${p.required} approval(s)`;
  const blocks: Block[] = [
    {
      type: 'header',
      text: {
        type: 'plain_text',
        text: `${p.kind[0]!.toUpperCase()}${p.kind.slice(1)}: ${p.agentId} ${p.from} → ${p.to}`,
      },
    },
    {
      type: 'section',
      text: mrkdwn(`Requested by ${escapeMrkdwn(p.requester)}; needs ${need}. \`${p.promotionId}\``),
    },
  ];
  const votes = [...p.approvals.map((a) => `✅ ${a}`), ...p.rejections.map((r) => `⛔ ${r}`)];
  if (votes.length) blocks.push({ type: 'section', text: mrkdwn(votes.join('\n')) });
  if (p.outcome === 'pending') {
    blocks.push({
      type: 'actions',
      block_id: 'promotion',
      elements: [
        {
          type: 'button',
          action_id: 'promotion_approve',
          style: 'primary',
          text: { type: 'plain_text', text: 'Approve' },
          value: p.promotionId,
        },
        {
          type: 'button',
          action_id: 'promotion_reject',
          style: 'danger',
          text: { type: 'plain_text', text: 'Reject' },
          value: p.promotionId,
        },
      ],
    });
  } else {
    blocks.push({ type: 'section', text: mrkdwn(`*${p.outcome === 'applied' ? 'Applied' : 'Rejected'}*`) });
  }
  return blocks;
}

/** `/agent suggest`: one section per suggestion; a promotion carries the button that requests it. */
export function suggestionBlocks(list: readonly Suggestion[]): Record<string, unknown>[] {
  return list.slice(0, 50).map((s) => ({
    type: 'section',
    text: mrkdwn(`• ${escapeMrkdwn(describeSuggestion(s))}`),
    ...(s.kind === 'promote'
      ? {
          accessory: {
            type: 'button',
            action_id: SUGGESTED_PROMOTION_ACTION,
            text: { type: 'plain_text', text: `Request ${s.to}` },
            value: `${s.agentId}:${s.to}`,
          },
        }
      : {}),
  }));
}

export const SUGGESTED_PROMOTION_ACTION = 'suggestion_request_promotion';

/** One line for a move that waits for votes. */
export function promotionRequestedText(p: PromotionStatus): string {
  return `${p.promotionId}: ${p.from} → ${p.to} requested; needs ${p.council ? `the council (${p.required})` : `${p.required} approval(s)`}.`;
}

/** An approver's direct message: every request that waits for them, each with its PR and what it needs. */
export function approverDigestBlocks(
  waiting: readonly ApprovalContext[],
  channel: string | null,
  /** What each request still needs, from the one tally. */
  needs: (c: ApprovalContext) => string = (c) => (c.council ? 'the council' : `${c.required} approval(s)`),
): Record<string, unknown>[] {
  const shown = waiting.slice(0, 45);
  return [
    {
      type: 'header',
      text: { type: 'plain_text', text: `${waiting.length} approval request(s) wait for you` },
    },
    ...shown.map((c) => ({
      type: 'section',
      text: mrkdwn(
        `*<${c.url}|${escapeMrkdwn(`${c.repository}#${c.number}`)}>* ${escapeMrkdwn(c.title)}\n\`${c.agentId}\` ${tierLabel(c.tier)}, ${c.changedFiles} file(s), ${c.changedLines} line(s); ${escapeMrkdwn(needs(c))}, by ${new Date(c.expiresAt).toUTCString()}`,
      ),
    })),
    ...(waiting.length > shown.length
      ? [{ type: 'context', elements: [mrkdwn(`…and ${waiting.length - shown.length} more`)] }]
      : []),
    {
      type: 'context',
      elements: [
        mrkdwn(
          channel
            ? `Vote with the buttons on each request in <#${channel}>.`
            : 'Vote with the buttons on each request.',
        ),
      ],
    },
  ];
}
