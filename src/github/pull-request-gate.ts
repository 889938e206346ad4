import type { ProbotOctokit } from 'probot';
import { tierCapabilities } from '../core/org-config.js';
import { evaluate, scanForSecrets } from '../core/policy/evaluate.js';
import type { Policy } from '../core/policy/policy-schema.js';
import type { PullRequestFacts } from '../core/policy/pull-request-facts.js';
import {
  type CheckRunRender,
  renderCheckRun,
  renderCheckRunRevoked,
  renderConfigError,
  renderHumanSecret,
  renderInProgress,
  renderUnknownAuthor,
} from '../core/policy/render-check-run.js';
import { resolvePolicy } from '../core/policy/resolve-policy.js';
import { secretMatchersOf } from '../core/policy/rules.js';
import { decisionRecord, type Governance } from '../governance/governance.js';
import type { Logger } from '../platform/logger.js';
import { checkRunMessage } from './check-run-message.js';
import { gatherCommits, gatherFacts } from './gather-facts.js';
import { loadPolicy } from './load-policy.js';
import type { PullRequestTarget } from './pull-request-target.js';
import { scanInSlices } from './scan-in-slices.js';

/**
 * Evaluates one PR: identify its agent, load the default branch's policy, gather the facts,
 * evaluate, and record the decision with its check run in the ledger. Every event that can change
 * a PR's verdict (push, edit, re-run, review, CI result, reconciliation) comes through here.
 */
/**
 * The PR's facts with its secret scan already run, in slices that give the event loop back: the
 * one step whose cost a policy's patterns decide, so the one kept off the loop's critical path.
 */
async function scannedFacts(policy: Policy, pending: Promise<PullRequestFacts>): Promise<PullRequestFacts> {
  const facts = await pending;
  if (!policy.rules.secrets.enabled) return facts;
  const { slices: _slices, ...secretScan } = await scanInSlices(facts.files, secretMatchersOf(policy));
  return { ...facts, secretScan };
}

export class PullRequestGate {
  constructor(
    private readonly governance: Governance,
    private readonly logger: Logger,
    /** Called when new outbox messages are waiting. */
    private readonly onOutbox: () => void,
  ) {}

  async evaluate(
    octokit: ProbotOctokit,
    target: PullRequestTarget,
    trigger: string,
    causeSeq: number | null,
    /** When the decision is taken: expiry is judged at this instant. */
    now = new Date(),
  ): Promise<void> {
    const g = this.governance;
    const repository = `${target.owner}/${target.repo}`;
    const base = { repository, number: target.pr.number, headSha: target.pr.headSha };
    // Commits are read only when the author is no agent's login: a trailer is then the only tie.
    const byLogin = g.agentIdForLogin(target.pr.author) !== null;
    const [loaded, commits] = await Promise.all([
      loadPolicy(octokit, target.owner, target.repo, target.defaultBranch),
      byLogin ? Promise.resolve([]) : gatherCommits(octokit, target),
    ]);
    const identified = await g.identifyAgent(target.pr.author, commits);
    const coAuthors = [...new Set(commits.flatMap((c) => c.coAuthors))];
    const agent = identified?.agent ?? null;
    // Decided before any rule runs: no agent to judge, or no policy to judge it by.
    const early = (
      agentId: string | null,
      outcome: 'not_agent' | 'config_error' | 'deny',
      summary: string,
      render: CheckRunRender,
    ) =>
      this.record(
        {
          ...base,
          agentId,
          outcome,
          summary,
          tier: agent?.tier ?? null,
          policyVersion: null,
          diffHash: null,
          rules: [],
          violations: [],
        },
        trigger,
        checkRunMessage(target, target.pr.headSha, render, `seq-${causeSeq ?? 'sweep'}`),
      );
    if (!agent) {
      const policy = loaded.ok ? loaded.policy : null;
      if (policy?.unknownAuthors === 'skip' && !policy.scanAllPrs) return;
      // The secret scan runs on every PR the App sees: a person's leaked key is as leaked as an
      // agent's. A policy that cannot be used still leaves the built-in patterns to run.
      const scanPolicy = policy ?? resolvePolicy(null, { source: 'built-in default template' });
      const scan =
        !policy || policy.scanAllPrs
          ? scanForSecrets(
              scanPolicy,
              await scannedFacts(scanPolicy, gatherFacts(octokit, target, coAuthors, { needChecks: false })),
            )
          : null;
      if (scan && scan.status === 'fire' && scan.violation === 'secret_exposure') {
        await early(
          null,
          'deny',
          `secret in a PR by ${target.pr.author}: ${scan.summary}`,
          renderHumanSecret(target.pr.author, scan),
        );
        return;
      }
      if (policy?.unknownAuthors === 'skip') return;
      await early(
        null,
        'not_agent',
        `no registered agent: author ${target.pr.author}`,
        renderUnknownAuthor(target.pr.author, scan),
      );
      return;
    }
    const attribution = identified!.attribution;
    if (!loaded.ok) {
      await early(agent.id, 'config_error', loaded.problems[0]!, renderConfigError(loaded.problems));
      return;
    }
    if (causeSeq !== null) {
      g.ledger.outbox.enqueue(
        causeSeq,
        checkRunMessage(
          target,
          target.pr.headSha,
          renderInProgress('Evaluating', `Evaluating \`${agent.id}\` against ${loaded.policy.source}`),
          `seq-${causeSeq}-start`,
        ),
      );
      this.onOutbox();
    }
    const policy = loaded.policy;
    const facts = await scannedFacts(
      policy,
      gatherFacts(octokit, target, coAuthors, {
        needChecks: policy.rules.required_checks.enabled && policy.rules.required_checks.checks.length > 0,
      }),
    );
    // The request began to wait with the first decision at this head that needed people (or now).
    const since = g.waitingSince(repository, target.pr.number, target.pr.headSha) ?? now.toISOString();
    const decision = evaluate(
      policy,
      tierCapabilities(g.config, agent.tier),
      facts,
      {
        agent,
        receipts: g.receiptsFor(repository, target.pr.number),
        org: g.configWithCouncil(),
        agentIdentities: g.agentIdentities(),
        waitingSince: since,
        attribution,
      },
      now,
    );
    // A vote re-evaluates the PR; two votes at once would write the same verdict twice. The check
    // already says this: leave it, and spend no GitHub call on it.
    if (trigger === 'slack.approval' && g.sameAsLatest(repository, target.pr.number, decision)) return;
    const step = `seq-${causeSeq ?? 'sweep'}-${decision.outcome}-${g.ledger.head().seq}`;
    await this.governance.recordDecision(
      { ...decisionRecord(decision, facts), installationId: target.installationId },
      trigger,
      (final) => ({
        outbox: [
          checkRunMessage(
            target,
            target.pr.headSha,
            final.outcome === decision.outcome
              ? renderCheckRun(decision)
              : renderCheckRunRevoked(agent.id, final.summary),
            step,
          ),
        ],
      }),
    );
    this.onOutbox();
    this.logger.info(
      { repository, number: target.pr.number, agent: agent.id, outcome: decision.outcome, trigger },
      decision.summary,
    );
  }

  private async record(
    record: Parameters<Governance['recordDecision']>[0],
    trigger: string,
    message: ReturnType<typeof checkRunMessage>,
  ) {
    await this.governance.recordDecision(record, trigger, { outbox: [message] });
    this.onOutbox();
  }
}
