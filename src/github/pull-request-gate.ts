import type { ProbotOctokit } from 'probot';
import type { AgentRecord } from '../core/agent.js';
import { scanForSecrets } from '../core/policy/evaluate.js';
import {
  type CheckRunRender,
  renderCheckRun,
  renderCheckRunRevoked,
  renderConfigError,
  renderHumanSecret,
  renderUnknownAuthor,
} from '../core/policy/render-check-run.js';
import { resolvePolicy } from '../core/policy/resolve-policy.js';
import { decisionRecord } from '../governance/decision-record.js';
import type { Governance } from '../governance/governance.js';
import { decisionsAsync, type LatestDecision } from '../ledger/queries/decisions.js';
import type { Logger } from '../platform/logger.js';
import { commitChecks } from './commit-checks.js';
import { type DecideOn, decidePullRequest, inputsKeyOf, scannedFacts } from './decide-pull-request.js';
import { EvaluatedSnapshots, updatedAtOf } from './event-snapshots.js';
import { gatherCommits, gatherFacts } from './gather-facts.js';
import { inProgressIfSlow } from './in-progress-if-slow.js';
import { CodeOwnersReader } from './load-code-owners.js';
import { type LoadedPolicy, loadPolicy } from './load-policy.js';
import type { PolicyCache } from './policy-cache.js';
import type { PullRequestTarget } from './pull-request-target.js';

/** A person asked for the check again: it is written even when nothing changed. */
const ASKED_AGAIN = new Set([
  'check_run.rerequested',
  'check_run.requested_action',
  'check_suite.rerequested',
]);

export interface PullRequestGateOptions {
  /**
   * A decision reached within this time is written as one check run in its final state; one that
   * takes longer shows `in_progress` first (default 1 s).
   */
  inProgressAfterMs?: number;
}

/**
 * Evaluates one PR: identify its agent, load the default branch's policy, gather the facts,
 * evaluate, and record the decision with its check run in the ledger. Every event that can change
 * a PR's verdict (push, edit, re-run, review, CI result, reconciliation) comes through here; one
 * whose inputs and answer equal the recorded decision's records nothing and calls GitHub no more.
 */
export class PullRequestGate {
  constructor(
    private readonly governance: Governance,
    private readonly logger: Logger,
    /** Called when new outbox messages are waiting. */
    private readonly onOutbox: () => void,
    /** The policy files read from GitHub, shared with everything else that reads them. */
    readonly policies: PolicyCache,
    private readonly options: PullRequestGateOptions = {},
  ) {
    this.owners = new CodeOwnersReader(policies);
  }

  private readonly owners: CodeOwnersReader;
  private readonly snapshots = new EvaluatedSnapshots();

  async evaluate(
    octokit: ProbotOctokit,
    target: PullRequestTarget,
    trigger: string,
    causeSeq: number | null,
    /** When the decision is taken: expiry is judged at this instant. */
    now = this.governance.clock.now(),
  ): Promise<void> {
    const g = this.governance;
    if (await this.nothingNew(octokit, target, trigger)) return;
    // Commits are read only when the author is no agent's login: a trailer is then the only tie.
    const byLogin = g.agentIdForLogin(target.pr.author) !== null;
    const [loaded, commits] = await Promise.all([
      loadPolicy(octokit, target.owner, target.repo, target.defaultBranch, this.policies),
      byLogin ? Promise.resolve([]) : gatherCommits(octokit, target),
    ]);
    const identified = await g.identifyAgent(target.pr.author, commits);
    const coAuthors = [...new Set(commits.flatMap((c) => c.coAuthors))];
    const judged = { target, trigger, causeSeq };
    if (!identified) return this.judgeUnknownAuthor(octokit, judged, loaded, coAuthors);
    const { agent } = identified;
    if (!loaded.ok)
      return this.early(
        judged,
        agent,
        'config_error',
        loaded.problems[0]!,
        renderConfigError(loaded.problems),
      );
    const done =
      causeSeq === null
        ? () => undefined
        : await inProgressIfSlow(g, this.logger, this.onOutbox, {
            target,
            summary: `Evaluating \`${agent.id}\` against ${loaded.policy.source}`,
            causeSeq,
            afterMs: this.options.inProgressAfterMs ?? 1000,
          });
    try {
      await this.judgeAgent(octokit, judged, { policy: loaded.policy, identified, coAuthors, now });
    } finally {
      done();
    }
    this.snapshots.remember(`${target.owner}/${target.repo}`, target.pr);
  }

  /** An event asking for no evaluation (`EvaluatedSnapshots.judge`), found asking GitHub nothing. */
  private async nothingNew(octokit: ProbotOctokit, target: PullRequestTarget, trigger: string) {
    const seen = await this.snapshots.judge(this.governance.store.reader, target, trigger);
    if (seen === 'stale') this.logger.info({ ...target.pr, trigger }, 'an event for a head the PR has left');
    return seen === 'stale' || (seen === 'seen' && (await this.unchanged(octokit, target)));
  }

  /**
   * Whether the PR's newest decision still holds, asking GitHub nothing (the policy comes from the
   * cache while it is fresh): the same head, and the same inputs it was decided with. The sweep
   * leaves such a PR alone.
   */
  async unchanged(octokit: ProbotOctokit, target: PullRequestTarget): Promise<boolean> {
    const g = this.governance;
    const latest = await decisionsAsync.latestDecision(
      g.store.reader,
      `${target.owner}/${target.repo}`,
      target.pr.number,
    );
    if (!latest?.inputs || !latest.agentId || !latest.diffHash || latest.headSha !== target.pr.headSha)
      return false;
    const agent = await g.state.getAgent(latest.agentId);
    if (!agent) return false;
    const loaded = await loadPolicy(octokit, target.owner, target.repo, target.defaultBranch, this.policies);
    if (!loaded.ok) return false;
    const codeOwners = await this.owners.forPolicy(octokit, target, loaded.policy);
    return (
      (await inputsKeyOf(g, target, latest.diffHash, loaded.policy.version, agent, codeOwners)) ===
      latest.inputs
    );
  }

  private async judgeAgent(
    octokit: ProbotOctokit,
    { target, trigger, causeSeq }: Judged,
    on: DecideOn,
  ): Promise<void> {
    const g = this.governance;
    const { agent } = on.identified;
    const repository = `${target.owner}/${target.repo}`;
    const codeOwners = await this.owners.forPolicy(octokit, target, on.policy);
    const { facts, decision, inputs } = await decidePullRequest(g, octokit, target, { ...on, codeOwners });
    // Nothing it depends on changed and it says the same: the check already says this. Two votes at
    // once (Slack) may differ in inputs and still say the same: that is not written twice either.
    const unchanged = (latest: LatestDecision | null) =>
      saysTheSame(latest, decision) &&
      !ASKED_AGAIN.has(trigger) &&
      (latest?.inputs === inputs || trigger === 'slack.approval');
    if (unchanged(await decisionsAsync.latestDecision(g.store.reader, repository, target.pr.number))) return;
    await g.recordDecision(
      {
        ...decisionRecord(decision, facts),
        inputs,
        installationId: target.installationId,
        ...updatedAtOf(target),
      },
      trigger,
      async (final, view) => ({
        outbox: await commitChecks(
          view.reader,
          target,
          final,
          final.outcome === decision.outcome
            ? renderCheckRun(decision)
            : renderCheckRunRevoked(agent.id, final.summary),
          // The head this decision extends: a later one for the same cause is a write of its own.
          `seq-${causeSeq ?? 'sweep'}-${decision.outcome}-${view.head.seq}`,
        ),
      }),
      unchanged,
    );
    this.onOutbox();
    this.logger.info(
      { repository, number: target.pr.number, agent: agent.id, outcome: decision.outcome, trigger },
      decision.summary,
    );
  }

  /** A PR no agent is tied to: only the secret scan applies (every PR the App sees is scanned). */
  private async judgeUnknownAuthor(
    octokit: ProbotOctokit,
    judged: Judged,
    loaded: LoadedPolicy,
    coAuthors: string[],
  ): Promise<void> {
    const author = judged.target.pr.author;
    const policy = loaded.ok ? loaded.policy : null;
    if (policy?.unknownAuthors === 'skip' && !policy.scanAllPrs) return;
    // A policy that cannot be used still leaves the built-in patterns to run.
    const scanPolicy = policy ?? resolvePolicy(null, { source: 'built-in default template' });
    const scan =
      !policy || policy.scanAllPrs
        ? scanForSecrets(
            scanPolicy,
            await scannedFacts(
              scanPolicy,
              gatherFacts(octokit, judged.target, coAuthors, { needChecks: false }),
            ),
          )
        : null;
    if (scan && scan.status === 'fire' && scan.violation === 'secret_exposure') {
      const summary = `secret in a PR by ${author}: ${scan.summary}`;
      return this.early(judged, null, 'deny', summary, renderHumanSecret(author, scan));
    }
    if (policy?.unknownAuthors === 'skip') return;
    const summary = `no registered agent: author ${author}`;
    await this.early(judged, null, 'not_agent', summary, renderUnknownAuthor(author, scan));
  }

  /** Decided before any rule runs: no agent to judge, or no policy to judge it by. */
  private async early(
    { target, trigger, causeSeq }: Judged,
    agent: AgentRecord | null,
    outcome: 'not_agent' | 'config_error' | 'deny',
    summary: string,
    render: CheckRunRender,
  ): Promise<void> {
    const g = this.governance;
    const base = { repository: `${target.owner}/${target.repo}`, number: target.pr.number };
    const headSha = target.pr.headSha;
    // The same verdict at the same commit is on the check already (an edit, a CI result).
    const unchanged = (latest: LatestDecision | null) =>
      !ASKED_AGAIN.has(trigger) && saysTheSame(latest, { headSha, outcome, summary });
    if (unchanged(await decisionsAsync.latestDecision(g.store.reader, base.repository, base.number))) return;
    const record = {
      ...base,
      ...updatedAtOf(target),
      headSha,
      agentId: agent?.id ?? null,
      outcome,
      summary,
      tier: agent?.tier ?? null,
      policyVersion: null,
      diffHash: null,
      rules: [],
      violations: [],
    };
    const step = `seq-${causeSeq ?? 'sweep'}`;
    await g.recordDecision(
      record,
      trigger,
      async (final, view) => ({ outbox: await commitChecks(view.reader, target, final, render, step) }),
      unchanged,
    );
    this.onOutbox();
  }
}

/** Whether the PR's newest decision already says this: the same head, outcome and summary. */
function saysTheSame(
  latest: LatestDecision | null,
  d: { headSha: string; outcome: string; summary: string },
): boolean {
  return latest?.headSha === d.headSha && latest.outcome === d.outcome && latest.summary === d.summary;
}

/** The PR being judged, why, and the ledger entry that caused it (null: the sweep). */
interface Judged {
  target: PullRequestTarget;
  trigger: string;
  causeSeq: number | null;
}
