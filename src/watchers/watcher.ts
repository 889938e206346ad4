import { promotionEligibility, thresholdsFor } from '../core/promotion.js';
import { type AgentRecordSummary, type Suggestion, suggest } from '../core/suggestions.js';
import { adjacentTier } from '../core/tiers.js';
import { DEFAULT_WATCH_SETTINGS, type Finding, watch } from '../core/watch-rules.js';
import { type FindingIssuePayload, findingIssueMessage } from '../github/finding-issue.js';
import { agentRecordFacts } from '../governance/agent-record.js';
import type { Governance } from '../governance/governance.js';
import type { OutboxMessageInput } from '../ledger/outbox.js';
import { allAgentMetrics } from '../ledger/queries/agents.js';
import {
  allowedPullRequestsSince,
  approversSince,
  decisionPayloadsSince,
  decisionsSince,
} from '../ledger/queries/decisions.js';
import { badOutcomesSince } from '../ledger/queries/outcomes.js';
import { pendingPromotionIds } from '../ledger/queries/promotions.js';
import { seriousViolationCount, violationsSince } from '../ledger/queries/violations.js';
import { openFindingKeys, waitingSlackApprovals } from '../ledger/queries/watch.js';

/**
 * Reads the ledger into the watcher's and the suggestion engine's inputs, records findings (once
 * while open, resolved when they clear) and sends each new one to Slack's findings channel.
 */
export class Watcher {
  constructor(private readonly governance: Governance) {}

  /** Runs the rules; returns the findings raised now (not those already open). */
  run(now = this.governance.clock.now()): Finding[] {
    const db = this.governance.ledger;
    const since = new Date(now.getTime() - DEFAULT_WATCH_SETTINGS.windowHours * 3600_000).toISOString();
    const history = {
      violations: violationsSince(db, since),
      decisions: decisionsSince(db, since),
      waitingApprovals: waitingSlackApprovals(db),
    };
    const findings = watch(history, DEFAULT_WATCH_SETTINGS, now);
    return this.governance.ledger.atomically(() => {
      const open = new Set(this.openFindings());
      const current = new Set(findings.map((f) => f.key));
      const raised = findings.filter((f) => !open.has(f.key));
      for (const f of raised) this.raise(f, now);
      for (const key of open) if (!current.has(key)) this.resolve(key, now);
      return raised;
    });
  }

  /** Records a new finding, with its post to the findings channel and its issue, when configured. */
  private raise(f: Finding, now: Date): void {
    const channel = this.governance.config.slack.findings_channel;
    const calls: OutboxMessageInput[] = channel
      ? [
          {
            target: 'slack',
            kind: 'chat.postMessage',
            idempotencyKey: `slack:finding:${f.key}:${now.toISOString()}`,
            orderingKey: `channel:${channel}`,
            payload: { channel, text: `:mag: ${f.summary}` },
          },
        ]
      : [];
    calls.push(...this.issue(f, 'open', now));
    this.governance.ledger.append(
      {
        type: 'finding.raised',
        agentId: f.agentId,
        actor: 'bug-watcher',
        payload: { key: f.key, rule: f.rule, summary: f.summary, evidence: f.evidence },
      },
      { outbox: calls },
    );
  }

  private resolve(key: string, now: Date): void {
    this.governance.ledger.append(
      { type: 'finding.resolved', agentId: null, actor: 'bug-watcher', payload: { key } },
      { outbox: this.issue({ key }, 'close', now) },
    );
  }

  /** The call that opens or closes the finding's GitHub issue; none without a findings repository. */
  private issue(
    f: Finding | { key: string },
    action: FindingIssuePayload['action'],
    now: Date,
  ): OutboxMessageInput[] {
    const { findings_repository: repository, issue_labels: labels } = this.governance.config.watchers;
    if (!repository) return [];
    return [
      findingIssueMessage(
        {
          action,
          repository,
          labels,
          key: f.key,
          ...('summary' in f ? { summary: f.summary, evidence: f.evidence, rule: f.rule } : {}),
        },
        now,
      ),
    ];
  }

  /** Keys of findings raised and not resolved. */
  openFindings(): string[] {
    return openFindingKeys(this.governance.ledger);
  }

  async suggestions(now = this.governance.clock.now()): Promise<Suggestion[]> {
    const g = this.governance;
    const db = g.ledger;
    const since = new Date(now.getTime() - 30 * 86_400_000).toISOString();
    const agents: AgentRecordSummary[] = [];
    for (const m of allAgentMetrics(db)) {
      const facts = await agentRecordFacts(g, m, now);
      const next = adjacentTier(m.tier, 1);
      const verdict = next
        ? promotionEligibility(facts, thresholdsFor(g.config, next), now)
        : { eligible: false, reasons: ['already at the top tier'] };
      agents.push({
        agentId: m.agentId,
        tier: m.tier,
        status: m.status,
        eligibleFor: verdict.eligible ? next : null,
        eligibilityReasons: verdict.reasons,
        seriousViolations: seriousViolationCount(db, m.agentId, since),
        budgetUsed: facts.budgetUsed,
        budgetLimit: facts.budgetLimit,
        pendingPromotion: pendingPromotionIds(db, m.agentId).length > 0,
        badOutcomes: badOutcomesSince(db, m.agentId, since).map((b) => b.evidence),
      });
    }
    const firedRules = new Set<string>();
    const held: { rule: string; approved: boolean; pr: string }[] = [];
    const approvedPrs = new Set(allowedPullRequestsSince(db, since));
    for (const p of decisionPayloadsSince(db, since)) {
      for (const r of p.rules) if (r.status === 'fire') firedRules.add(r.rule);
      if (p.outcome === 'require_approval') {
        for (const r of p.rules.filter((x) => x.status === 'fire'))
          held.push({
            rule: r.rule,
            approved: approvedPrs.has(`${p.repository}#${p.number}`),
            pr: `${p.repository}#${p.number}`,
          });
      }
    }
    const approvers = approversSince(db, since);
    return suggest({ agents, heldByRule: held, firedRules: [...firedRules], approvers });
  }
}
