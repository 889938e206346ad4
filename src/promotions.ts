import { AGENT_METRICS_COLUMNS, type AgentMetricsRow, agentRecordFacts } from './agent-record.js';
import type { LedgerEntryInput } from './core/ledger-entries.js';
import type { AgentStatus } from './core/lifecycle.js';
import { isNamedApprover, onePerTeam } from './core/policy/evaluate.js';
import { approvalsFor, promotionEligibility, thresholdsFor } from './core/promotion.js';
import { adjacentTier, isTierId, type TierId } from './core/tiers.js';
import { UserError } from './errors.js';
import type { Governance } from './governance.js';
import { unknownAgent } from './governance.js';
import type { OutboxMessageInput } from './ledger/outbox.js';

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

interface Row {
  type: string;
  actor: string;
  payload: string;
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
      const agent = ledger.db
        .prepare(`SELECT ${AGENT_METRICS_COLUMNS} FROM agent_metrics WHERE agent_id = ?`)
        .get(agentId) as (AgentMetricsRow & { status: AgentStatus }) | undefined;
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
      this.checkApprover(current, approver);
      if (current.approvals.includes(approver) || current.rejections.includes(approver)) {
        throw new UserError('already_voted', `${approver} already voted on ${promotionId}`);
      }
      const entries: LedgerEntryInput[] = [
        {
          type: 'promotion.voted',
          agentId: current.agentId,
          actor: approver,
          payload: { promotionId, approver, verdict, reason },
        },
      ];
      const voters = verdict === 'approve' ? [...current.approvals, approver] : current.approvals;
      // Separation of duties: a council with distinct_teams counts one approval per team.
      const approvals =
        current.council && g.config.council?.distinct_teams
          ? onePerTeam(voters, g.config.approvers).length
          : voters.length;
      const vetoed = verdict === 'reject' && (!current.council || g.config.council?.veto);
      const lost =
        current.council &&
        g.config.council &&
        g.councilMembers().length - (current.rejections.length + (verdict === 'reject' ? 1 : 0)) <
          current.required;
      let options = {};
      if (vetoed || lost) {
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
      } else if (approvals >= current.required) {
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
    const ids = this.governance.ledger.db
      .prepare(
        `SELECT DISTINCT json_extract(e.payload, '$.promotionId') AS id FROM agent_actions a JOIN ledger_entries e ON e.seq = a.seq
         WHERE a.agent_id = ? AND a.type = 'promotion.requested'`,
      )
      .all(agentId) as { id: string }[];
    return ids.map((r) => this.statusOf(r.id)).find((s) => s?.outcome === 'pending') ?? null;
  }

  statusOf(promotionId: string): PromotionStatus | null {
    const agentId = /^(?:promo|demo|reinst)-(.+)-\d+$/.exec(promotionId)?.[1];
    if (!agentId) return null;
    const rows = this.governance.ledger.db
      .prepare(
        `SELECT e.type, e.actor, e.payload FROM agent_actions a JOIN ledger_entries e ON e.seq = a.seq
         WHERE a.agent_id = ? AND a.type IN ('promotion.requested', 'promotion.voted', 'promotion.resolved')
           AND json_extract(e.payload, '$.promotionId') = ? ORDER BY a.seq`,
      )
      .all(agentId, promotionId) as Row[];
    const first = rows[0];
    if (!first) return null;
    const req = JSON.parse(first.payload);
    const status: PromotionStatus = {
      promotionId,
      agentId,
      kind: req.kind,
      from: req.from,
      to: req.to,
      required: req.required,
      council: req.council,
      requester: first.actor,
      approvals: [],
      rejections: [],
      outcome: 'pending',
    };
    for (const row of rows.slice(1)) {
      const p = JSON.parse(row.payload);
      if (row.type === 'promotion.voted')
        (p.verdict === 'approve' ? status.approvals : status.rejections).push(p.approver);
      else status.outcome = p.outcome;
    }
    return status;
  }

  /** Nobody approves their own request; an agent never approves; the owner does not count. */
  private checkApprover(p: PromotionStatus, approver: string): void {
    const g = this.governance;
    const owner = (
      g.ledger.db
        .prepare(
          "SELECT payload FROM ledger_entries e JOIN agent_actions a ON a.seq = e.seq WHERE a.agent_id = ? AND a.type = 'agent.registered'",
        )
        .get(p.agentId) as { payload: string } | undefined
    )?.payload;
    const ownerLogin = owner ? (JSON.parse(owner).owner as string | null) : null;
    const eligible = p.council ? g.councilMembers() : g.config.approvers.map((a) => a.github);
    const refuse = (why: string) =>
      new UserError('approver_refused', `${approver} cannot approve ${p.promotionId}: ${why}`);
    if (approver === p.requester) throw refuse('nobody approves their own request');
    if (approver === p.agentId || g.agentIdForLogin(approver)) throw refuse('an agent never approves');
    if (approver === ownerLogin) throw refuse("the agent's owner does not count");
    if (!isNamedApprover({ council: p.council, eligible }, approver))
      throw refuse(p.council ? 'not a council member' : 'not an approver in the organisation config');
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
