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
  constructor(private readonly governance: Governance) {}

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
    this.governance.ledger.db
      .prepare(
        `INSERT INTO slack_approvals (approval_key, repository, number, head_sha, installation_id, agent_id, context, channel, ts, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (approval_key) DO UPDATE SET channel = excluded.channel, ts = excluded.ts`,
      )
      .run(
        context.approvalKey,
        context.repository,
        context.number,
        headOf(context.approvalKey),
        installationId,
        context.agentId,
        JSON.stringify(context),
        channel,
        ts,
        new Date().toISOString(),
      );
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
    const directory = g.directory();
    const login = personBySlack(directory, slackUser)?.github ?? null;
    return ledger.atomically(() => {
      const row = ledger.db
        .prepare('SELECT context, state, installation_id FROM slack_approvals WHERE approval_key = ?')
        .get(approvalKey) as { context: string; state: string; installation_id: number | null } | undefined;
      const context = row ? (JSON.parse(row.context) as ApprovalContext) : null;
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
        votes: this.votes(context),
        outcome,
        tallies: after,
        decidedNow: outcome !== 'pending',
        installationId: row!.installation_id,
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
      const rows = ledger.db
        .prepare(
          "SELECT context, head_sha FROM slack_approvals WHERE repository = ? AND number = ? AND state = 'pending'",
        )
        .all(repository, number) as { context: string; head_sha: string }[];
      const closed: { context: ApprovalContext; state: 'approved' | 'closed'; because: string }[] = [];
      for (const row of rows) {
        const context = JSON.parse(row.context) as ApprovalContext;
        const sameHead = row.head_sha === headSha;
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
      const rows = ledger.db
        .prepare("SELECT context FROM slack_approvals WHERE agent_id = ? AND state = 'pending'")
        .all(agentId) as { context: string }[];
      return rows.map((row) => {
        const context = JSON.parse(row.context) as ApprovalContext;
        this.close(context, 'closed', because, 'governance');
        return { context, because };
      });
    });
  }

  private close(context: ApprovalContext, state: 'approved' | 'closed', because: string, actor: string) {
    const ledger = this.governance.ledger;
    ledger.db
      .prepare('UPDATE slack_approvals SET state = ? WHERE approval_key = ?')
      .run(state, context.approvalKey);
    ledger.append({
      type: 'approval.resolved',
      agentId: context.agentId,
      actor,
      payload: { approvalId: context.approvalKey, outcome: state, reason: because },
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
      .all(context.repository, context.number, headOf(context.approvalKey)) as Vote[];
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
