import type { LedgerEntryInput } from '../core/ledger-entries.js';
import { personKeyOfActor } from '../core/people.js';
import type { ApprovalReceipt } from '../core/policy/decision.js';
import { type GateTally, tallyGate } from '../core/policy/gate-tally.js';
import { promotionEligibility, thresholdsFor } from '../core/promotion.js';
import type { TierId } from '../core/tiers.js';
import type { AsyncAppendOptions } from '../ledger/async-ledger.js';
import type { LedgerReader } from '../ledger/ledger-reader.js';
import type { OutboxMessageInput } from '../ledger/outbox.js';
import { type AgentMetrics, agentsAsync } from '../ledger/queries/agents.js';
import { promotionsAsync } from '../ledger/queries/promotions.js';
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
 * one ledger transaction. Every step is decided from the promotion's history as its entries will
 * extend the ledger (`store.appendDecided`), so two requests, or an approval arriving twice, or twenty at once, across
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
    let promotionId = '';
    await g.store.appendDecided(async ({ reader, head }) => {
      const agent = await agentsAsync.agentMetrics(reader, agentId);
      if (!agent) throw unknownAgent(agentId);
      await this.refuseIfPending(agentId, reader);
      const { kind } = options;
      const step = checkedStep(agent, options);
      if (kind === 'promotion' && !options.force) await this.refuseIfNotEligible(agent, step, reader);
      const need = approvalsNeeded(g.config, kind, step);
      const move = { agentId, promotionId: newPromotionId(kind, agentId, head.seq + 1), kind };
      promotionId = move.promotionId;
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
      if (need.required > 0) return [requested];
      const applied = appliedEntries({ ...move, from: agent.tier, to: step }, actor, agent.status);
      return { entries: [requested, ...applied], ...this.vaultOptions(agentId, step, move.promotionId) };
    });
    const status = (await this.statusOf(promotionId))!;
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
    await g.store.appendDecided(async ({ reader }) => {
      const current = await this.openFor(promotionId, approver, reader);
      const vote = voteReceipt(approver, verdict, g.clock.now().toISOString());
      // The one tally decides: whether this person may vote at all, and what the vote changes.
      const receipts = [...(await this.receiptsOf(promotionId, reader)), vote];
      const tally = await this.tally(current, receipts, reader);
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
      const { entries, options } = await this.consequencesOf(current, tally, approver, reason, reader);
      return { entries: [voted, ...entries], ...options };
    });
    const status = (await this.statusOf(promotionId))!;
    await g.syncState();
    this.onOutbox();
    return status;
  }

  async pendingFor(agentId: string, reader = this.governance.store.reader): Promise<PromotionStatus | null> {
    const pending = (await promotionsAsync.pendingPromotionIds(reader, agentId))[0];
    return pending === undefined ? null : this.statusOf(pending, reader);
  }

  async statusOf(
    promotionId: string,
    reader = this.governance.store.reader,
  ): Promise<PromotionStatus | null> {
    return promotionStatus(promotionId, await this.historyOf(promotionId, reader));
  }

  /**
   * Where a request stands, from the one tally: its votes as receipts, the council or the
   * organisation's approvers as the gate, the requester and the agent's owner never counting.
   */
  async tally(
    p: PromotionStatus,
    given?: readonly ApprovalReceipt[],
    reader: LedgerReader = this.governance.store.reader,
  ): Promise<GateTally> {
    const g = this.governance;
    const receipts = given ?? (await this.receiptsOf(p.promotionId, reader));
    const council = p.council ? g.config.council : undefined;
    const directory = g.directory();
    return tallyGate(
      {
        gate: p.council ? 'council' : p.kind,
        approvals: p.required,
        council: p.council,
        veto: Boolean(council?.veto),
        distinctTeams: Boolean(council?.distinct_teams),
        eligible: p.council ? await g.council.members(reader) : g.config.approvers.map((a) => a.github),
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
        owner: await agentsAsync.agentOwner(reader, p.agentId),
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

  private async refuseIfPending(agentId: string, reader: LedgerReader): Promise<void> {
    const pending = await this.pendingFor(agentId, reader);
    if (pending)
      throw new UserError(
        'promotion_pending',
        `${agentId} already has ${pending.kind} ${pending.promotionId} waiting for approval; one at a time`,
      );
  }

  private async refuseIfNotEligible(agent: AgentMetrics, step: TierId, reader: LedgerReader): Promise<void> {
    const g = this.governance;
    const now = g.clock.now();
    const facts = await agentRecordFacts(g, agent, now, reader);
    const verdict = promotionEligibility(facts, thresholdsFor(g.config, step), now);
    if (!verdict.eligible)
      throw new UserError(
        'not_eligible',
        `${agent.agentId} is not eligible for ${step}: ${verdict.reasons.join('; ')}`,
      );
  }

  /** The promotion, when it still waits for votes and this approver has not voted on it yet. */
  private async openFor(
    promotionId: string,
    approver: string,
    reader: LedgerReader,
  ): Promise<PromotionStatus> {
    const current = await this.statusOf(promotionId, reader);
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
  private async consequencesOf(
    current: PromotionStatus,
    tally: GateTally,
    approver: string,
    reason: string,
    reader: LedgerReader,
  ): Promise<{ entries: LedgerEntryInput[]; options: AsyncAppendOptions }> {
    if (tally.state === 'rejected' || tally.state === 'vetoed')
      return { entries: [rejectedEntry(current, approver, reason)], options: {} };
    if (tally.state !== 'approved') return { entries: [], options: {} };
    const agentStatus = (await this.governance.statusInLedger(current.agentId, reader))!;
    return {
      entries: appliedEntries(current, approver, agentStatus),
      options: this.vaultOptions(current.agentId, current.to, current.promotionId),
    };
  }

  private async receiptsOf(promotionId: string, reader: LedgerReader): Promise<ApprovalReceipt[]> {
    return promotionReceipts(await this.historyOf(promotionId, reader));
  }

  /** The promotion's request, votes and resolution, oldest first (none for an id of no promotion). */
  private async historyOf(promotionId: string, reader: LedgerReader) {
    const agentId = promotionAgentId(promotionId);
    return agentId ? promotionsAsync.promotionHistory(reader, agentId, promotionId) : [];
  }

  private vaultOptions(agentId: string, tier: TierId, promotionId: string): AsyncAppendOptions {
    return this.vaultCall ? { outbox: [this.vaultCall(agentId, tier, promotionId)] } : {};
  }
}
