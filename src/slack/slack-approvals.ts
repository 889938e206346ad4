import type { LedgerPayload } from '../core/ledger-entries.js';
import { isAgentIdentity, loginKey, personBySlack } from '../core/people.js';
import type { ApprovalReceipt } from '../core/policy/decision.js';
import {
  type GateRule,
  type GateTally,
  overallState,
  pullRequestSubject,
  tallyGate,
} from '../core/policy/gate-tally.js';
import type { Governance } from '../governance/governance.js';
import { type ApprovalQueries, approvalQueries } from '../ledger/queries/approvals.js';
import { decisionViewQueries } from '../ledger/queries/decision-views.js';
import type { ApprovalContext, Vote } from './blocks.js';

export type VoteResult =
  | { accepted: false; reason: string; context: ApprovalContext | null }
  | {
      accepted: true;
      context: ApprovalContext;
      votes: Vote[];
      outcome: 'pending' | 'approved' | 'rejected';
      /** Each gate's state from the one tally, as the check shows it. */
      tallies: GateTally[];
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
  private readonly requests: ApprovalQueries<ApprovalContext>;

  constructor(private readonly governance: Governance) {
    this.requests = approvalQueries<ApprovalContext>(governance.ledger);
  }

  /** The context of an approval request from the decision that needs it. */
  contextFor(decision: Decision & { agentId: string }, expiresAt: Date): ApprovalContext | null {
    const gate = decision.gates?.[0];
    if (!gate || !decision.gates) return null;
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
      gates: decision.gates.map((rule) => ({ ...rule })),
      ...(decision.diffHash ? { diffHash: decision.diffHash } : {}),
      ...(decision.policyVersion ? { policyVersion: decision.policyVersion } : {}),
      ...(decision.author ? { author: decision.author } : {}),
    };
  }

  /**
   * Each gate of a request, tallied over every receipt on the PR (Slack clicks and GitHub reviews
   * alike): the one answer the check shows too.
   */
  tallies(context: ApprovalContext, now = new Date(), extra: readonly ApprovalReceipt[] = []): GateTally[] {
    const g = this.governance;
    const receipts = [...g.receiptsFor(context.repository, context.number), ...extra];
    const rules = rulesOf(context);
    const directory = g.directory();
    const subject = pullRequestSubject({
      headSha: headOf(context.approvalKey),
      diffHash: context.diffHash ?? null,
      policyVersion: context.policyVersion ?? null,
      owner: context.owner,
      author: context.author ?? null,
      // The request was posted `expiryHours` before its deadline.
      requestedAt: new Date(Date.parse(context.expiresAt) - rules[0]!.expiryHours * 3600_000).toISOString(),
    });
    return rules.map((rule) => tallyGate(rule, receipts, subject, directory, now));
  }

  /** Stores the request once its message is posted: clicks on it find it here. */
  remember(context: ApprovalContext, installationId: number | null, channel: string, ts: string): void {
    this.requests.remember({
      approvalKey: context.approvalKey,
      repository: context.repository,
      number: context.number,
      headSha: headOf(context.approvalKey),
      installationId,
      agentId: context.agentId,
      context,
      channel,
      ts,
      createdAt: new Date().toISOString(),
    });
  }

  /**
   * The Slack users who may still vote on a request: whoever the one tally says may approve a gate
   * that waits, mapped to Slack. Never an agent, never the owner where a gate forbids it.
   */
  approversOf(context: ApprovalContext): string[] {
    const directory = this.governance.directory();
    const logins = new Set(this.tallies(context).flatMap((t) => t.mayApprove.map(loginKey)));
    return directory.people.filter((p) => p.slack && logins.has(loginKey(p.github))).map((p) => p.slack!);
  }

  /** Whether a request still waits for votes (one not posted yet counts as waiting). */
  isPending(approvalKey: string): boolean {
    const state = this.requests.state(approvalKey);
    return state === null || state === 'pending';
  }

  message(approvalKey: string): { channel: string; ts: string } | null {
    return this.requests.message(approvalKey);
  }

  vote(slackUser: string, approvalKey: string, verdict: 'approve' | 'reject', reason = ''): VoteResult {
    const g = this.governance;
    const ledger = g.ledger;
    const directory = g.directory();
    const login = personBySlack(directory, slackUser)?.github ?? null;
    return ledger.atomically(() => {
      const row = this.requests.request(approvalKey);
      const context = row?.context ?? null;
      const headSha = headOf(approvalKey);
      const receipts = context ? g.receiptsFor(context.repository, context.number) : [];
      const mine = login
        ? receipts.find((r) => r.headSha === headSha && loginKey(r.approver) === loginKey(login))
        : undefined;
      // The one tally, as if this vote counted: it says whether this person may vote on any gate.
      const tallies = context && login ? this.talliesWith(context, login, verdict) : [];
      const barred =
        tallies.length > 0 && tallies.every((t) => t.notCounted.some((n) => n.approver === login));
      const refusal = !context
        ? 'this approval request is not known (it may be for an older commit)'
        : row!.state !== 'pending'
          ? `this request was already ${row!.state}`
          : !login
            ? 'you are not an approver: your Slack user is not mapped to a GitHub login in the organisation config'
            : isAgentIdentity(directory, login) || loginKey(login) === context.agentId
              ? 'an agent never approves'
              : mine
                ? `${login} already voted on this commit (${mine.source === 'github_review' ? 'in a GitHub review' : 'in Slack'})`
                : barred
                  ? [
                      ...new Set(
                        tallies.flatMap((t) =>
                          t.notCounted.filter((n) => n.approver === login).map((n) => n.reason),
                        ),
                      ),
                    ].join('; ')
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
          headSha,
          diffHash: context.diffHash ?? decision?.diffHash ?? '',
          policyVersion: context.policyVersion ?? decision?.policyVersion ?? '',
          source: 'slack',
        },
      });
      const after = this.tallies(context);
      const outcome = requestOutcome(after);
      if (outcome !== 'pending') {
        this.requests.setState(approvalKey, outcome);
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
        votes: this.votes(context),
        outcome,
        tallies: after,
        decidedNow: outcome !== 'pending',
        installationId: row!.installationId,
      };
    });
  }

  /** The tallies as they would be with this person's vote added (nothing is written). */
  private talliesWith(context: ApprovalContext, login: string, verdict: 'approve' | 'reject'): GateTally[] {
    return this.tallies(context, new Date(), [
      {
        approver: login,
        verdict,
        gate: null,
        headSha: headOf(context.approvalKey),
        diffHash: context.diffHash ?? '',
        policyVersion: context.policyVersion ?? '',
        source: 'slack',
        at: new Date().toISOString(),
      },
    ]);
  }

  /**
   * Closes the PR's requests that are over because of a newer decision: another head commit
   * (superseded by a push), or an outcome that no longer waits (approved by a GitHub review,
   * denied, the agent revoked). Returns each closed request with why, once.
   */
  closeOver(
    repository: string,
    number: number,
    headSha: string,
    outcome: string,
    summary: string,
  ): { context: ApprovalContext; state: 'approved' | 'closed'; because: string }[] {
    const ledger = this.governance.ledger;
    return ledger.atomically(() => {
      const closed: { context: ApprovalContext; state: 'approved' | 'closed'; because: string }[] = [];
      for (const row of this.requests.pendingOnPullRequest(repository, number)) {
        const context = row.context;
        const sameHead = row.headSha === headSha;
        if (sameHead && (outcome === 'require_approval' || outcome === 'pending')) continue;
        const state = sameHead && outcome === 'allow' ? ('approved' as const) : ('closed' as const);
        const because = !sameHead
          ? `superseded by a newer commit (${headSha.slice(0, 7)}); the new one needs new approvals`
          : summary;
        this.close(context, state, because, 'github');
        closed.push({ context, state, because });
      }
      return closed;
    });
  }

  /** Closes every request of an agent that was revoked or suspended: nothing of it may pass now. */
  closeForAgent(agentId: string, because: string): { context: ApprovalContext; because: string }[] {
    const ledger = this.governance.ledger;
    return ledger.atomically(() => {
      return this.requests.pendingOfAgent(agentId).map((context) => {
        this.close(context, 'closed', because, 'governance');
        return { context, because };
      });
    });
  }

  private close(context: ApprovalContext, state: 'approved' | 'closed', because: string, actor: string) {
    this.requests.setState(context.approvalKey, state);
    this.governance.ledger.append({
      type: 'approval.resolved',
      agentId: context.agentId,
      actor,
      payload: { approvalId: context.approvalKey, outcome: state, reason: because },
    });
  }

  /** Requests still waiting, oldest first. */
  pending(): ApprovalContext[] {
    return this.requests.pending().map((r) => r.context);
  }

  /**
   * Closes requests past their deadline: expiry never approves. Returns each one closed with the
   * votes it had, once (inside a write transaction, so two processes do not both close it).
   */
  expire(now: Date): { context: ApprovalContext; votes: Vote[]; installationId: number | null }[] {
    const ledger = this.governance.ledger;
    return ledger.atomically(() => {
      const expired: { context: ApprovalContext; votes: Vote[]; installationId: number | null }[] = [];
      for (const { context, installationId } of this.requests.pending()) {
        if (Date.parse(context.expiresAt) > now.getTime()) continue;
        this.requests.setState(context.approvalKey, 'expired');
        ledger.append({
          type: 'approval.resolved',
          agentId: context.agentId,
          actor: 'expiry',
          payload: { approvalId: context.approvalKey, outcome: 'expired' },
        });
        expired.push({ context, votes: this.votes(context), installationId });
      }
      return expired;
    });
  }

  private votes(context: ApprovalContext): Vote[] {
    return this.requests.slackVotes(context.repository, context.number, headOf(context.approvalKey));
  }

  private latestDecision(context: ApprovalContext): Decision | null {
    return this.requests.latestDecision(context.repository, context.number);
  }

  private ownerOf(agentId: string): string | null {
    return decisionViewQueries(this.governance.ledger).agentOwner(agentId);
  }
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

function headOf(approvalKey: string): string {
  return approvalKey.slice(approvalKey.lastIndexOf('@') + 1);
}

export function approvalKeyOf(repository: string, number: number, headSha: string): string {
  return `${repository}#${number}@${headSha}`;
}
