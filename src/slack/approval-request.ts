/** An approval request in Slack: its context from the decision that needs it, and how it reads. */
import { approvalKeyOf, isApprovalKey, parseApprovalKey } from '../core/approval-key.js';
import type { LedgerPayload } from '../core/ledger-entries.js';
import { type GateRule, type GateTally, overallState } from '../core/policy/gate-tally.js';
import type { ApprovalContext } from './blocks.js';

export type Decision = LedgerPayload<'decision.recorded'>;

/**
 * The context of the request a decision needs, as its card shows it and the one tally reads it.
 * None when no gate waits, or for a decision that is not on a GitHub PR at a full commit (never one
 * from a webhook): no card then, rather than a follower stopped on it.
 */
export function approvalContextOf(
  decision: Decision & { agentId: string },
  request: { expiresAt: Date; owner: string | null; veto: boolean },
): ApprovalContext | null {
  const gate = decision.gates?.[0];
  const { repository, number, headSha } = decision;
  if (!gate || !decision.gates || !isApprovalKey({ repository, number, headSha })) return null;
  return {
    approvalKey: approvalKeyOf({ repository, number, headSha }),
    repository,
    number,
    title: decision.title ?? `${repository}#${number}`,
    url: decision.url ?? `https://github.com/${repository}/pull/${number}`,
    agentId: decision.agentId,
    tier: decision.tier ?? 'T0',
    changedFiles: decision.files?.length ?? 0,
    changedLines: (decision.files ?? []).reduce((n, f) => n + f.additions + f.deletions, 0),
    reasons: decision.rules.filter((r) => r.status === 'fire').map((r) => r.summary),
    required: gate.approvals,
    council: gate.council,
    veto: request.veto,
    eligible: gate.eligible,
    allowOwner: gate.allowOwner,
    owner: request.owner,
    expiresAt: request.expiresAt.toISOString(),
    onExpiry: gate.onExpiry ?? 'reject',
    gates: decision.gates.map((rule) => ({ ...rule })),
    ...(decision.diffHash ? { diffHash: decision.diffHash } : {}),
    ...(decision.policyVersion ? { policyVersion: decision.policyVersion } : {}),
    ...(decision.author ? { author: decision.author } : {}),
  };
}

/** The head commit a request is for, from its key (every stored request's key was built here). */
export function headOf(context: ApprovalContext): string {
  const key = parseApprovalKey(context.approvalKey);
  if (!key) throw new Error(`approval request ${JSON.stringify(context.approvalKey)} has a malformed key`);
  return key.headSha;
}

/** What a request's card says, from its gates' tallies: approved only when every gate is. */
export function requestOutcome(tallies: readonly GateTally[]): 'pending' | 'approved' | 'rejected' {
  const state = overallState(tallies);
  return state === 'approved'
    ? 'approved'
    : state === 'rejected' || state === 'vetoed' || state === 'expired'
      ? 'rejected'
      : 'pending';
}

/** The gates of a request; one built from the old fields for requests stored before gates were. */
export function rulesOf(context: ApprovalContext): GateRule[] {
  return (
    context.gates ?? [
      {
        gate: 'default',
        approvals: context.required,
        council: context.council,
        veto: context.veto,
        distinctTeams: false,
        eligible: context.eligible,
        unmapped: [],
        allowOwner: context.allowOwner,
        survivePush: false,
        githubReviews: true,
        expiryHours: 72,
        onExpiry: context.onExpiry,
      },
    ]
  );
}
