import type { ApprovalReceipt } from '../core/policy/decision.js';
import type { TierId } from '../core/tiers.js';
import type { PromotionEntry } from '../ledger/queries/promotions.js';

export type MoveKind = 'promotion' | 'demotion' | 'reinstatement';

export interface PromotionStatus {
  promotionId: string;
  agentId: string;
  kind: MoveKind;
  from: TierId;
  to: TierId;
  required: number;
  council: boolean;
  requester: string;
  approvals: string[];
  rejections: string[];
  outcome: 'pending' | 'applied' | 'rejected';
}

const PREFIX: Record<MoveKind, string> = { promotion: 'promo', demotion: 'demo', reinstatement: 'reinst' };

/** The id of a move requested when the ledger's next sequence is `seq`: `promo-<agent>-<seq>`. */
export function newPromotionId(kind: MoveKind, agentId: string, seq: number): string {
  return `${PREFIX[kind]}-${agentId}-${seq}`;
}

/** The agent a promotion id names: ids look like `promo-<agent>-<seq>`. */
export function promotionAgentId(promotionId: string): string | undefined {
  return /^(?:promo|demo|reinst)-(.+)-\d+$/.exec(promotionId)?.[1];
}

/** Where a promotion stands, from its history (request first); null when it was never requested. */
export function promotionStatus(
  promotionId: string,
  history: readonly PromotionEntry[],
): PromotionStatus | null {
  const [request, ...rest] = history;
  if (request?.type !== 'promotion.requested') return null;
  const req = request.payload;
  const status: PromotionStatus = {
    promotionId,
    agentId: promotionAgentId(promotionId)!,
    kind: req.kind,
    from: req.from,
    to: req.to,
    required: req.required,
    council: req.council,
    requester: request.actor,
    approvals: [],
    rejections: [],
    outcome: 'pending',
  };
  for (const entry of rest) {
    if (entry.type === 'promotion.voted')
      (entry.payload.verdict === 'approve' ? status.approvals : status.rejections).push(
        entry.payload.approver,
      );
    else if (entry.type === 'promotion.resolved') status.outcome = entry.payload.outcome;
  }
  return status;
}

/** A promotion's votes as the one tally reads approvals: receipts bound to no commit. */
export function promotionReceipts(history: readonly PromotionEntry[]): ApprovalReceipt[] {
  return history.flatMap((e) =>
    e.type === 'promotion.voted' ? [voteReceipt(e.payload.approver, e.payload.verdict, e.ts)] : [],
  );
}

export function voteReceipt(approver: string, verdict: 'approve' | 'reject', at: string): ApprovalReceipt {
  return { approver, verdict, gate: null, headSha: '', diffHash: '', policyVersion: '', source: 'cli', at };
}
