import type { LedgerEntryInput } from '../core/ledger-entries.js';
import type { AgentStatus } from '../core/lifecycle.js';
import { personKeyOfActor } from '../core/people.js';
import type { ApprovalReceipt } from '../core/policy/decision.js';
import { type GateTally, tallyGate } from '../core/policy/gate-tally.js';
import { approvalsFor, promotionEligibility, thresholdsFor } from '../core/promotion.js';
import { adjacentTier, isTierId, type TierId } from '../core/tiers.js';
import type { OutboxMessageInput } from '../ledger/outbox.js';
import { agentMetrics, agentOwner } from '../ledger/queries/agents.js';
import { pendingPromotionIds, promotionHistory } from '../ledger/queries/promotions.js';
import { UserError } from '../platform/errors.js';
import { agentRecordFacts } from './agent-record.js';
import { unknownAgent } from './agent-registry.js';
import type { Governance } from './governance.js';

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
      const pending = this.pendingFor(agentId);
      if (pending)
        throw new UserError(
          'promotion_pending',
          `${agentId} already has ${pending.kind} ${pending.promotionId} waiting for approval; one at a time`,
        );
      const { kind } = options;
      const step =
        kind === 'promotion'
          ? adjacentTier(agent.tier, 1)
          : kind === 'demotion'
            ? adjacentTier(agent.tier, -1)
            : agent.tier;
      if (!step)
        throw new UserError(
          'no_such_tier',
          `${agentId} is at ${agent.tier}: there is no tier to ${kind === 'promotion' ? 'promote' : 'demote'} it to`,
        );
      const wanted = options.to?.toUpperCase();
      if (wanted !== undefined && (!isTierId(wanted) || wanted !== step)) {
        throw new UserError(
          'one_tier_at_a_time',
          `${agentId} is at ${agent.tier}: a ${kind} goes to ${step}, one tier at a time`,
        );
      }
      if (kind === 'reinstatement' && agent.status === 'active')
        throw new UserError('not_suspended', `${agentId} is active: nothing to reinstate`);
      if (kind !== 'reinstatement' && agent.status !== 'active')
        throw new UserError('agent_not_active', `${agentId} is ${agent.status}: reinstate it first`);
      if (kind === 'promotion' && !options.force) {
        const verdict = promotionEligibility(
          agentRecordFacts(g, agent, new Date()),
          thresholdsFor(g.config, step),
          new Date(),
        );
        if (!verdict.eligible)
          throw new UserError(
            'not_eligible',
            `${agentId} is not eligible for ${step}: ${verdict.reasons.join('; ')}`,
          );
      }
      // Demotions are a safety measure: they apply at once. Reinstatement is decided like the tier it restores.
      const need = kind === 'demotion' ? { required: 0, council: false } : approvalsFor(g.config, step);
      const promotionId = `${kind === 'promotion' ? 'promo' : kind === 'demotion' ? 'demo' : 'reinst'}-${agentId}-${ledger.head().seq + 1}`;
      const requested: LedgerEntryInput = {
        type: 'promotion.requested',
        agentId,
        actor,
        payload: {
          promotionId,
          kind,
          from: agent.tier,
          to: step,
          required: need.required,
          council: need.council,
          reason: options.reason ?? `${kind} requested by ${actor}`,
        },
      };
      if (need.required === 0) {
        ledger.appendAll(
          [
            requested,
            ...this.applyEntries(agentId, actor, promotionId, kind, agent.tier, step, agent.status),
          ],
          this.vaultOptions(agentId, step, promotionId),
        );
      } else {
        ledger.append(requested);
      }
      return this.statusOf(promotionId)!;
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
    const ledger = g.ledger;
    const status = ledger.atomically(() => {
      const current = this.statusOf(promotionId);
      if (!current)
        throw new UserError('promotion_unknown', `no promotion ${promotionId}; see \`agov promotions list\``);
      if (current.outcome !== 'pending')
        throw new UserError('promotion_decided', `${promotionId} was already ${current.outcome}`);
      const receipts = this.receiptsOf(promotionId);
      const voted = [...current.approvals, ...current.rejections].some(
        (v) => v.toLowerCase() === approver.toLowerCase(),
      );
      if (voted) throw new UserError('already_voted', `${approver} already voted on ${promotionId}`);
      const vote: ApprovalReceipt = {
        approver,
        verdict,
        gate: null,
        headSha: '',
        diffHash: '',
        policyVersion: '',
        source: 'cli',
        at: new Date().toISOString(),
      };
      // The one tally decides: whether this person may vote at all, and what the vote changes.
      const tally = this.tally(current, [...receipts, vote]);
      const refused = tally.notCounted.find((n) => n.approver === approver);
      if (refused)
        throw new UserError(
          'approver_refused',
          `${approver} cannot approve ${promotionId}: ${refused.reason}`,
        );
      const entries: LedgerEntryInput[] = [
        {
          type: 'promotion.voted',
          agentId: current.agentId,
          actor: approver,
          payload: { promotionId, approver, verdict, reason },
        },
      ];
      let options = {};
      if (tally.state === 'rejected' || tally.state === 'vetoed') {
        entries.push({
          type: 'promotion.resolved',
          agentId: current.agentId,
          actor: approver,
          payload: {
            promotionId,
            outcome: 'rejected',
            detail: `rejected by ${approver}${reason ? `: ${reason}` : ''}`,
          },
        });
      } else if (tally.state === 'approved') {
        const agentStatus = g.statusInLedger(current.agentId)!;
        entries.push(
          ...this.applyEntries(
            current.agentId,
            approver,
            promotionId,
            current.kind,
            current.from,
            current.to,
            agentStatus,
          ),
        );
        options = this.vaultOptions(current.agentId, current.to, promotionId);
      }
      ledger.appendAll(entries, options);
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
    const [request, ...rest] = this.historyOf(promotionId);
    if (request?.type !== 'promotion.requested') return null;
    const req = request.payload;
    const status: PromotionStatus = {
      promotionId,
      agentId: agentIdOf(promotionId)!,
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
        owner: this.ownerOf(p.agentId),
        // The requester is a person however they asked: a Slack user and their GitHub login are one.
        excluded: [
          { login: personKeyOfActor(directory, p.requester), reason: 'nobody approves their own request' },
        ],
        requestedAt: null,
      },
      directory,
      new Date(),
    );
  }

  private receiptsOf(promotionId: string): ApprovalReceipt[] {
    return this.historyOf(promotionId)
      .filter((e) => e.type === 'promotion.voted')
      .map((e) => ({
        approver: e.payload.approver,
        verdict: e.payload.verdict,
        gate: null,
        headSha: '',
        diffHash: '',
        policyVersion: '',
        source: 'cli' as const,
        at: e.ts,
      }));
  }

  /** The promotion's request, votes and resolution, oldest first (none for an id of no promotion). */
  private historyOf(promotionId: string) {
    const agentId = agentIdOf(promotionId);
    return agentId ? promotionHistory(this.governance.ledger, agentId, promotionId) : [];
  }

  private ownerOf(agentId: string): string | null {
    return agentOwner(this.governance.ledger, agentId);
  }

  private applyEntries(
    agentId: string,
    actor: string,
    promotionId: string,
    kind: MoveKind,
    from: TierId,
    to: TierId,
    status: AgentStatus,
  ): LedgerEntryInput[] {
    const change: LedgerEntryInput =
      kind === 'reinstatement'
        ? {
            type: 'agent.status_changed',
            agentId,
            actor,
            payload: { from: status, to: 'active', reason: `reinstated (${promotionId})` },
          }
        : { type: 'agent.tier_changed', agentId, actor, payload: { from, to, reason: promotionId, kind } };
    return [
      change,
      {
        type: 'promotion.resolved',
        agentId,
        actor,
        payload: { promotionId, outcome: 'applied', detail: `${from} → ${to}` },
      },
    ];
  }

  private vaultOptions(agentId: string, tier: TierId, promotionId: string) {
    return this.vaultCall ? { outbox: [this.vaultCall(agentId, tier, promotionId)] } : {};
  }
}

/** The agent a promotion id names: ids look like `promo-<agent>-<seq>`. */
function agentIdOf(promotionId: string): string | undefined {
  return /^(?:promo|demo|reinst)-(.+)-\d+$/.exec(promotionId)?.[1];
}
