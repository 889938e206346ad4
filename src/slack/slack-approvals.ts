import type { LedgerPayload } from '../core/ledger-entries.js';
import { isNamedApprover } from '../core/policy/evaluate.js';
import type { Governance } from '../governance.js';
import type { ApprovalContext, Vote } from './blocks.js';

export type VoteResult =
  | { accepted: false; reason: string; context: ApprovalContext | null }
  | {
      accepted: true;
      context: ApprovalContext;
      votes: Vote[];
      outcome: 'pending' | 'approved' | 'rejected';
      /** True for exactly the one vote that decided the request. */
      decidedNow: boolean;
      installationId: number | null;
    };

type Decision = LedgerPayload<'decision.recorded'>;

/**
 * Approval requests in Slack and the votes on them. A vote is checked (a mapped approver, allowed
 * for this request, not the agent, not the owner where the gate forbids it, not twice), recorded
 * with the click, and turned into an approval receipt bound to the PR's head, diff and policy. The
 * vote that decides the request does so inside one ledger transaction, so two approvers clicking at
 * once decide it once.
 */
export class SlackApprovals {
  constructor(private readonly governance: Governance) {}

  /** The context of an approval request from the decision that needs it. */
  contextFor(decision: Decision & { agentId: string }, expiresAt: Date): ApprovalContext | null {
    const gate = decision.gates?.[0];
    if (!gate) return null;
    const owner = this.ownerOf(decision.agentId);
    return {
      approvalKey: approvalKeyOf(decision.repository, decision.number, decision.headSha),
      repository: decision.repository,
      number: decision.number,
      title: decision.title ?? `${decision.repository}#${decision.number}`,
      url: decision.url ?? `https://github.com/${decision.repository}/pull/${decision.number}`,
      agentId: decision.agentId,
      tier: decision.tier ?? 'T0',
      changedFiles: decision.files?.length ?? 0,
      changedLines: (decision.files ?? []).reduce((n, f) => n + f.additions + f.deletions, 0),
      reasons: decision.rules.filter((r) => r.status === 'fire').map((r) => r.summary),
      required: gate.approvals,
      council: gate.council,
      veto: Boolean(this.governance.config.council?.veto),
      eligible: gate.eligible,
      allowOwner: gate.allowOwner,
      owner,
      expiresAt: expiresAt.toISOString(),
      onExpiry: gate.onExpiry ?? 'reject',
    };
  }

  /** Stores the request once its message is posted: clicks on it find it here. */
  remember(context: ApprovalContext, installationId: number | null, channel: string, ts: string): void {
    this.governance.ledger.db
      .prepare(
        `INSERT INTO slack_approvals (approval_key, repository, number, head_sha, installation_id, agent_id, context, channel, ts, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (approval_key) DO UPDATE SET channel = excluded.channel, ts = excluded.ts`,
      )
      .run(
        context.approvalKey,
        context.repository,
        context.number,
        context.approvalKey.split('@')[1],
        installationId,
        context.agentId,
        JSON.stringify(context),
        channel,
        ts,
        new Date().toISOString(),
      );
  }

  /**
   * The Slack users who may vote on a request: the gate's approvers (the council's members for a
   * council gate; every approver when the gate names none) that are mapped to Slack, without the
   * agent's owner where the gate forbids it, and never an agent.
   */
  approversOf(context: ApprovalContext): string[] {
    const g = this.governance;
    return g.config.approvers
      .filter((a) => a.slack && isNamedApprover(context, a.github))
      .filter((a) => !(a.github === context.owner && !context.allowOwner))
      .filter((a) => !g.agentIdForLogin(a.github) && a.github !== context.agentId)
      .map((a) => a.slack!);
  }

  /** Whether a request still waits for votes (one not posted yet counts as waiting). */
  isPending(approvalKey: string): boolean {
    const row = this.governance.ledger.db
      .prepare('SELECT state FROM slack_approvals WHERE approval_key = ?')
      .get(approvalKey) as { state: string } | undefined;
    return !row || row.state === 'pending';
  }

  message(approvalKey: string): { channel: string; ts: string } | null {
    const row = this.governance.ledger.db
      .prepare('SELECT channel, ts FROM slack_approvals WHERE approval_key = ?')
      .get(approvalKey) as { channel: string | null; ts: string | null } | undefined;
    return row?.channel && row.ts ? { channel: row.channel, ts: row.ts } : null;
  }

  vote(slackUser: string, approvalKey: string, verdict: 'approve' | 'reject', reason = ''): VoteResult {
    const g = this.governance;
    const ledger = g.ledger;
    const login = g.config.approvers.find((a) => a.slack === slackUser)?.github ?? null;
    return ledger.atomically(() => {
      const row = ledger.db
        .prepare('SELECT context, state, installation_id FROM slack_approvals WHERE approval_key = ?')
        .get(approvalKey) as { context: string; state: string; installation_id: number | null } | undefined;
      const context = row ? (JSON.parse(row.context) as ApprovalContext) : null;
      const votes = context ? this.votes(context) : [];
      const refusal = !context
        ? 'this approval request is not known (it may be for an older commit)'
        : row!.state !== 'pending'
          ? `this request was already ${row!.state}`
          : !login
            ? 'you are not an approver: your Slack user is not mapped to a GitHub login in the organisation config'
            : g.agentIdForLogin(login) || login === context.agentId
              ? 'an agent never approves'
              : login === context.owner && !context.allowOwner
                ? "the agent's owner may not approve this gate"
                : !isNamedApprover(context, login)
                  ? `${login} is not among the approvers of this gate (${context.eligible.join(', ')})`
                  : votes.some((v) => v.approver === login)
                    ? `${login} already voted on this request`
                    : null;
      ledger.append({
        type: 'approval.click',
        agentId: context?.agentId ?? null,
        actor: login ?? slackUser,
        payload: {
          slackUser,
          githubLogin: login,
          action: verdict,
          approvalKey,
          accepted: refusal === null,
          reason: refusal ?? reason,
        },
      });
      if (refusal || !context || !login)
        return { accepted: false as const, reason: refusal ?? 'refused', context };

      const decision = this.latestDecision(context);
      ledger.append({
        type: 'approval.recorded',
        agentId: null,
        actor: login,
        payload: {
          repository: context.repository,
          number: context.number,
          approver: login,
          verdict,
          gate: null,
          headSha: approvalKey.split('@')[1]!,
          diffHash: decision?.diffHash ?? '',
          policyVersion: decision?.policyVersion ?? '',
          source: 'slack',
        },
      });
      const all = [...votes, { approver: login, verdict, ...(reason ? { reason } : {}) }];
      const approvals = all.filter((v) => v.verdict === 'approve').length;
      const rejected = verdict === 'reject' && (!context.council || context.veto);
      const outcome = rejected ? 'rejected' : approvals >= context.required ? 'approved' : 'pending';
      if (outcome !== 'pending') {
        ledger.db
          .prepare('UPDATE slack_approvals SET state = ? WHERE approval_key = ?')
          .run(outcome, approvalKey);
        ledger.append({
          type: 'approval.resolved',
          agentId: context.agentId,
          actor: login,
          payload: { approvalId: approvalKey, outcome },
        });
      }
      return {
        accepted: true as const,
        context,
        votes: all,
        outcome,
        decidedNow: outcome !== 'pending',
        installationId: row!.installation_id,
      };
    });
  }

  /** Requests still waiting, oldest first. */
  pending(): ApprovalContext[] {
    return (
      this.governance.ledger.db
        .prepare("SELECT context FROM slack_approvals WHERE state = 'pending' ORDER BY created_at")
        .all() as { context: string }[]
    ).map((r) => JSON.parse(r.context) as ApprovalContext);
  }

  /**
   * Closes requests past their deadline: expiry never approves. Returns each one closed with the
   * votes it had, once (inside a write transaction, so two processes do not both close it).
   */
  expire(now: Date): { context: ApprovalContext; votes: Vote[]; installationId: number | null }[] {
    const ledger = this.governance.ledger;
    return ledger.atomically(() => {
      const rows = ledger.db
        .prepare("SELECT context, installation_id FROM slack_approvals WHERE state = 'pending'")
        .all() as { context: string; installation_id: number | null }[];
      const expired: { context: ApprovalContext; votes: Vote[]; installationId: number | null }[] = [];
      for (const row of rows) {
        const context = JSON.parse(row.context) as ApprovalContext;
        if (Date.parse(context.expiresAt) > now.getTime()) continue;
        ledger.db
          .prepare("UPDATE slack_approvals SET state = 'expired' WHERE approval_key = ?")
          .run(context.approvalKey);
        ledger.append({
          type: 'approval.resolved',
          agentId: context.agentId,
          actor: 'expiry',
          payload: { approvalId: context.approvalKey, outcome: 'expired' },
        });
        expired.push({ context, votes: this.votes(context), installationId: row.installation_id });
      }
      return expired;
    });
  }

  private votes(context: ApprovalContext): Vote[] {
    const rows = this.governance.ledger.db
      .prepare(
        "SELECT approver, verdict FROM approvals WHERE repository = ? AND number = ? AND head_sha = ? AND source = 'slack' ORDER BY seq",
      )
      .all(context.repository, context.number, context.approvalKey.split('@')[1]) as Vote[];
    return rows;
  }

  private latestDecision(context: ApprovalContext): Decision | null {
    const row = this.governance.ledger.db
      .prepare(
        'SELECT e.payload FROM decisions d JOIN ledger_entries e ON e.seq = d.seq WHERE d.repository = ? AND d.number = ? ORDER BY d.seq DESC LIMIT 1',
      )
      .get(context.repository, context.number) as { payload: string } | undefined;
    return row ? (JSON.parse(row.payload) as Decision) : null;
  }

  private ownerOf(agentId: string): string | null {
    const row = this.governance.ledger.db
      .prepare(
        "SELECT e.payload FROM agent_actions a JOIN ledger_entries e ON e.seq = a.seq WHERE a.agent_id = ? AND a.type = 'agent.registered'",
      )
      .get(agentId) as { payload: string } | undefined;
    return row ? (JSON.parse(row.payload).owner as string | null) : null;
  }
}

export function approvalKeyOf(repository: string, number: number, headSha: string): string {
  return `${repository}#${number}@${headSha}`;
}
