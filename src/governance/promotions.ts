import type { LedgerEntryInput } from '../core/ledger-entries.js';
import { personKeyOfActor } from '../core/people.js';
import type { ApprovalReceipt } from '../core/policy/decision.js';
import { type GateTally, tallyGate } from '../core/policy/gate-tally.js';
import { promotionEligibility, thresholdsFor } from '../core/promotion.js';
import type { TierId } from '../core/tiers.js';
import type { AppendOptions } from '../ledger/ledger.js';
import type { OutboxMessageInput } from '../ledger/outbox.js';
import { type AgentMetrics, agentMetrics, agentOwner } from '../ledger/queries/agents.js';
import { pendingPromotionIds, promotionHistory } from '../ledger/queries/promotions.js';
import { UserError } from '../platform/errors.js';
import { agentRecordFacts } from './agent-record.js';
import { unknownAgent } from './agent-registry.js';
import type { Governance } from './governance.js';
import { appliedEntries, approvalsNeeded, checkedStep, rejectedEntry } from './promotion-moves.js';
import {
  type MoveKind,
  newPromotionId,
  type PromotionStatus,
  promotionAgentId,
  promotionReceipts,
  promotionStatus,
  voteReceipt,
} from './promotion-status.js';

/**
 * Promotion, demotion and reinstatement: one machine. A request names one step; approvals are
 * votes; the vote that reaches the required number applies the move to state, ledger and Vault in
 * one ledger transaction. Every step runs inside a write transaction that reads the promotion's
 * history first, so two requests, or an approval arriving twice, or twenty at once, across
 * processes, apply a move exactly once and never skip a tier.
 */
export class Promotions {
  constructor(
    private readonly governance: Governance,
    /** The Vault call a tier change causes; null when Vault is off. */
    private readonly vaultCall:
      | ((agentId: string, tier: TierId, promotionId: string) => OutboxMessageInput)
      | null,
    private readonly onOutbox: () => void = () => {},
  ) {}

  async request(
    agentId: string,
    actor: string,
    options: { kind: MoveKind; to?: string; reason?: string; force?: boolean },
  ): Promise<PromotionStatus> {
    const g = this.governance;
    const ledger = g.ledger;
    const status = ledger.atomically(() => {
      const agent = agentMetrics(ledger, agentId);
      if (!agent) throw unknownAgent(agentId);
      this.refuseIfPending(agentId);
      const { kind } = options;
      const step = checkedStep(agent, options);
      if (kind === 'promotion' && !options.force) this.refuseIfNotEligible(agent, step);
      const need = approvalsNeeded(g.config, kind, step);
      const move = { agentId, promotionId: newPromotionId(kind, agentId, ledger.head().seq + 1), kind };
      const requested: LedgerEntryInput = {
        type: 'promotion.requested',
        agentId,
        actor,
        payload: {
          promotionId: move.promotionId,
          kind,
          from: agent.tier,
          to: step,
          required: need.required,
          council: need.council,
          reason: options.reason ?? `${kind} requested by ${actor}`,
        },
      };
      if (need.required === 0)
        ledger.appendAll(
          [requested, ...appliedEntries({ ...move, from: agent.tier, to: step }, actor, agent.status)],
          this.vaultOptions(agentId, step, move.promotionId),
        );
      else ledger.append(requested);
      return this.statusOf(move.promotionId)!;
    });
    await g.syncState();
    this.onOutbox();
    return status;
  }

  async vote(
    promotionId: string,
    approver: string,
    verdict: 'approve' | 'reject',
    reason = '',
  ): Promise<PromotionStatus> {
    const g = this.governance;
    const status = g.ledger.atomically(() => {
      const current = this.openFor(promotionId, approver);
      const vote = voteReceipt(approver, verdict, g.clock.now().toISOString());
      // The one tally decides: whether this person may vote at all, and what the vote changes.
      const tally = this.tally(current, [...this.receiptsOf(promotionId), vote]);
      const refused = tally.notCounted.find((n) => n.approver === approver);
      if (refused)
        throw new UserError(
          'approver_refused',
          `${approver} cannot approve ${promotionId}: ${refused.reason}`,
        );
      const voted: LedgerEntryInput = {
        type: 'promotion.voted',
        agentId: current.agentId,
        actor: approver,
        payload: { promotionId, approver, verdict, reason },
      };
      const { entries, options } = this.consequencesOf(current, tally, approver, reason);
      g.ledger.appendAll([voted, ...entries], options);
      return this.statusOf(promotionId)!;
    });
    await g.syncState();
    this.onOutbox();
    return status;
  }

  pendingFor(agentId: string): PromotionStatus | null {
    const pending = pendingPromotionIds(this.governance.ledger, agentId)[0];
    return pending === undefined ? null : this.statusOf(pending);
  }

  statusOf(promotionId: string): PromotionStatus | null {
    return promotionStatus(promotionId, this.historyOf(promotionId));
  }

  /**
   * Where a request stands, from the one tally: its votes as receipts, the council or the
   * organisation's approvers as the gate, the requester and the agent's owner never counting.
   */
  tally(
    p: PromotionStatus,
    receipts: readonly ApprovalReceipt[] = this.receiptsOf(p.promotionId),
  ): GateTally {
    const g = this.governance;
    const council = p.council ? g.config.council : undefined;
    const directory = g.directory();
    return tallyGate(
      {
        gate: p.council ? 'council' : p.kind,
        approvals: p.required,
        council: p.council,
        veto: Boolean(council?.veto),
        distinctTeams: Boolean(council?.distinct_teams),
        eligible: p.council ? g.council.members() : g.config.approvers.map((a) => a.github),
        unmapped: [],
        allowOwner: false,
        survivePush: true,
        githubReviews: true,
        expiryHours: council?.expiry_hours ?? 72,
        onExpiry: 'escalate',
      },
      receipts,
      {
        headSha: null,
        diffHash: null,
        policyVersion: null,
        owner: agentOwner(g.ledger, p.agentId),
        // The requester is a person however they asked: a Slack user and their GitHub login are one.
        excluded: [
          { login: personKeyOfActor(directory, p.requester), reason: 'nobody approves their own request' },
        ],
        requestedAt: null,
      },
      directory,
      g.clock.now(),
    );
  }

  private refuseIfPending(agentId: string): void {
    const pending = this.pendingFor(agentId);
    if (pending)
      throw new UserError(
        'promotion_pending',
        `${agentId} already has ${pending.kind} ${pending.promotionId} waiting for approval; one at a time`,
      );
  }

  private refuseIfNotEligible(agent: AgentMetrics, step: TierId): void {
    const g = this.governance;
    const now = g.clock.now();
    const verdict = promotionEligibility(agentRecordFacts(g, agent, now), thresholdsFor(g.config, step), now);
    if (!verdict.eligible)
      throw new UserError(
        'not_eligible',
        `${agent.agentId} is not eligible for ${step}: ${verdict.reasons.join('; ')}`,
      );
  }

  /** The promotion, when it still waits for votes and this approver has not voted on it yet. */
  private openFor(promotionId: string, approver: string): PromotionStatus {
    const current = this.statusOf(promotionId);
    if (!current)
      throw new UserError('promotion_unknown', `no promotion ${promotionId}; see \`agov promotions list\``);
    if (current.outcome !== 'pending')
      throw new UserError('promotion_decided', `${promotionId} was already ${current.outcome}`);
    const voted = [...current.approvals, ...current.rejections].some(
      (v) => v.toLowerCase() === approver.toLowerCase(),
    );
    if (voted) throw new UserError('already_voted', `${approver} already voted on ${promotionId}`);
    return current;
  }

  /** What a vote that leaves the tally at `tally` adds: a rejection, the move applied, or nothing. */
  private consequencesOf(
    current: PromotionStatus,
    tally: GateTally,
    approver: string,
    reason: string,
  ): { entries: LedgerEntryInput[]; options: AppendOptions } {
    if (tally.state === 'rejected' || tally.state === 'vetoed')
      return { entries: [rejectedEntry(current, approver, reason)], options: {} };
    if (tally.state !== 'approved') return { entries: [], options: {} };
    const agentStatus = this.governance.statusInLedger(current.agentId)!;
    return {
      entries: appliedEntries(current, approver, agentStatus),
      options: this.vaultOptions(current.agentId, current.to, current.promotionId),
    };
  }

  private receiptsOf(promotionId: string): ApprovalReceipt[] {
    return promotionReceipts(this.historyOf(promotionId));
  }

  /** The promotion's request, votes and resolution, oldest first (none for an id of no promotion). */
  private historyOf(promotionId: string) {
    const agentId = promotionAgentId(promotionId);
    return agentId ? promotionHistory(this.governance.ledger, agentId, promotionId) : [];
  }

  private vaultOptions(agentId: string, tier: TierId, promotionId: string): AppendOptions {
    return this.vaultCall ? { outbox: [this.vaultCall(agentId, tier, promotionId)] } : {};
  }
}
