import type { LedgerEntryInput } from '../core/ledger-entries.js';
import { promotionEligibility, thresholdsFor } from '../core/promotion.js';
import { type AgentRecordSummary, type Suggestion, suggest } from '../core/suggestions.js';
import { adjacentTier } from '../core/tiers.js';
import { DEFAULT_WATCH_SETTINGS, type Finding, watch } from '../core/watch-rules.js';
import { type FindingIssuePayload, findingIssueMessage } from '../github/finding-issue.js';
import { agentRecordFacts } from '../governance/agent-record.js';
import type { Governance } from '../governance/governance.js';
import type { OutboxMessageInput } from '../ledger/outbox.js';
import { agentsAsync } from '../ledger/queries/agents.js';
import { decisionsAsync } from '../ledger/queries/decisions.js';
import { outcomesAsync } from '../ledger/queries/outcomes.js';
import { promotionsAsync } from '../ledger/queries/promotions.js';
import { violationsAsync } from '../ledger/queries/violations.js';
import { watchAsync } from '../ledger/queries/watch.js';

/**
 * Reads the ledger into the watcher's and the suggestion engine's inputs, records findings (once
 * while open, resolved when they clear) and sends each new one to Slack's findings channel.
 */
export class Watcher {
  constructor(private readonly governance: Governance) {}

  /** Runs the rules; returns the findings raised now (not those already open). */
  async run(now = this.governance.clock.now()): Promise<Finding[]> {
    const reader = this.governance.store.reader;
    const since = new Date(now.getTime() - DEFAULT_WATCH_SETTINGS.windowHours * 3600_000).toISOString();
    const history = {
      violations: await violationsAsync.violationsSince(reader, since),
      decisions: await decisionsAsync.decisionsSince(reader, since),
      waitingApprovals: await watchAsync.waitingSlackApprovals(reader),
    };
    const findings = watch(history, DEFAULT_WATCH_SETTINGS, now);
    const open = new Set(await this.openFindings());
    const current = new Set(findings.map((f) => f.key));
    const raised: Finding[] = [];
    for (const f of findings.filter((x) => !open.has(x.key))) if (await this.raise(f, now)) raised.push(f);
    for (const key of open) if (!current.has(key)) await this.resolve(key, now);
    return raised;
  }

  /**
   * Records a new finding, with its post to the findings channel and its issue, when configured;
   * false when it was open already (another run raised it meanwhile).
   */
  private async raise(f: Finding, now: Date): Promise<boolean> {
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
    const entry: LedgerEntryInput = {
      type: 'finding.raised',
      agentId: f.agentId,
      actor: 'bug-watcher',
      payload: { key: f.key, rule: f.rule, summary: f.summary, evidence: f.evidence },
    };
    return this.appendIf(f.key, false, entry, calls);
  }

  private async resolve(key: string, now: Date): Promise<void> {
    const entry: LedgerEntryInput = {
      type: 'finding.resolved',
      agentId: null,
      actor: 'bug-watcher',
      payload: { key },
    };
    await this.appendIf(key, true, entry, this.issue({ key }, 'close', now));
  }

  /**
   * Appends a finding's entry, with the calls it causes, only if the finding is still open (or still
   * not open) as the entry extends the ledger: two runs at once never raise or resolve it twice.
   * One append per finding, so that each call is caused by its own finding's entry.
   */
  private async appendIf(
    key: string,
    open: boolean,
    entry: LedgerEntryInput,
    outbox: OutboxMessageInput[],
  ): Promise<boolean> {
    const appended = await this.governance.store.appendDecided(async (view) =>
      (await watchAsync.openFindingKeys(view.reader)).includes(key) === open
        ? { entries: [entry], outbox }
        : [],
    );
    return appended.length > 0;
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
  openFindings(): Promise<string[]> {
    return watchAsync.openFindingKeys(this.governance.store.reader);
  }

  async suggestions(now = this.governance.clock.now()): Promise<Suggestion[]> {
    const g = this.governance;
    const reader = g.store.reader;
    const since = new Date(now.getTime() - 30 * 86_400_000).toISOString();
    const agents: AgentRecordSummary[] = [];
    for (const m of await agentsAsync.allAgentMetrics(reader)) {
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
        seriousViolations: await violationsAsync.seriousViolationCount(reader, m.agentId, since),
        budgetUsed: facts.budgetUsed,
        budgetLimit: facts.budgetLimit,
        pendingPromotion: (await promotionsAsync.pendingPromotionIds(reader, m.agentId)).length > 0,
        badOutcomes: (await outcomesAsync.badOutcomesSince(reader, m.agentId, since)).map((b) => b.evidence),
      });
    }
    const firedRules = new Set<string>();
    const held: { rule: string; approved: boolean; pr: string }[] = [];
    const approvedPrs = new Set(await decisionsAsync.allowedPullRequestsSince(reader, since));
    for (const p of await decisionsAsync.decisionPayloadsSince(reader, since)) {
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
    const approvers = await decisionsAsync.approversSince(reader, since);
    return suggest({ agents, heldByRule: held, firedRules: [...firedRules], approvers });
  }
}
