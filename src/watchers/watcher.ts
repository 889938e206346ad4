import { promotionEligibility, thresholdsFor } from '../core/promotion.js';
import { type AgentRecordSummary, type Suggestion, suggest } from '../core/suggestions.js';
import { adjacentTier } from '../core/tiers.js';
import { DEFAULT_WATCH_SETTINGS, type Finding, watch } from '../core/watch-rules.js';
import { type FindingIssuePayload, findingIssueMessage } from '../github/finding-issue.js';
import { AGENT_METRICS_COLUMNS, type AgentMetricsRow, agentRecordFacts } from '../governance/agent-record.js';
import type { Governance } from '../governance/governance.js';
import { PullRequestOutcomes } from '../governance/pr-outcomes.js';
import type { OutboxMessageInput } from '../ledger/outbox.js';

/**
 * Reads the ledger into the watcher's and the suggestion engine's inputs, records findings (once
 * while open, resolved when they clear) and sends each new one to Slack's findings channel.
 */
export class Watcher {
  constructor(private readonly governance: Governance) {}

  /** Runs the rules; returns the findings raised now (not those already open). */
  run(now = new Date()): Finding[] {
    const ledger = this.governance.ledger;
    const db = ledger.db;
    const since = new Date(now.getTime() - DEFAULT_WATCH_SETTINGS.windowHours * 3600_000).toISOString();
    const violations = db
      .prepare('SELECT agent_id AS agentId, type, source, ts FROM violations WHERE ts >= ?')
      .all(since) as {
      agentId: string;
      type: string;
      source: string;
      ts: string;
    }[];
    const decisions = db
      .prepare('SELECT agent_id AS agentId, repository, number, outcome, ts FROM decisions WHERE ts >= ?')
      .all(since) as {
      agentId: string | null;
      repository: string;
      number: number;
      outcome: string;
      ts: string;
    }[];
    const waitingApprovals = (
      db
        .prepare(
          "SELECT approval_key AS key, agent_id AS agentId, context FROM slack_approvals WHERE state = 'pending'",
        )
        .all() as { key: string; agentId: string; context: string }[]
    ).map((r) => ({
      key: r.key,
      agentId: r.agentId,
      expiresAt: JSON.parse(r.context).expiresAt as string,
    }));
    const findings = watch({ violations, decisions, waitingApprovals }, DEFAULT_WATCH_SETTINGS, now);
    return ledger.atomically(() => {
      const open = new Set(this.openFindings());
      const current = new Set(findings.map((f) => f.key));
      const raised = findings.filter((f) => !open.has(f.key));
      const channel = this.governance.config.slack.findings_channel;
      const { findings_repository: repository, issue_labels: labels } = this.governance.config.watchers;
      const issue = (
        f: Finding | { key: string },
        action: FindingIssuePayload['action'],
      ): OutboxMessageInput[] =>
        repository
          ? [
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
            ]
          : [];
      for (const f of raised) {
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
        calls.push(...issue(f, 'open'));
        ledger.append(
          {
            type: 'finding.raised',
            agentId: f.agentId,
            actor: 'bug-watcher',
            payload: { key: f.key, rule: f.rule, summary: f.summary, evidence: f.evidence },
          },
          { outbox: calls },
        );
      }
      for (const key of open) {
        if (!current.has(key))
          ledger.append(
            { type: 'finding.resolved', agentId: null, actor: 'bug-watcher', payload: { key } },
            { outbox: issue({ key }, 'close') },
          );
      }
      return raised;
    });
  }

  /** Keys of findings raised and not resolved. */
  openFindings(): string[] {
    const rows = this.governance.ledger.db
      .prepare(
        "SELECT type, json_extract(payload, '$.key') AS key FROM ledger_entries WHERE type IN ('finding.raised', 'finding.resolved') ORDER BY seq",
      )
      .all() as { type: string; key: string }[];
    const open = new Set<string>();
    for (const r of rows) r.type === 'finding.raised' ? open.add(r.key) : open.delete(r.key);
    return [...open];
  }

  suggestions(now = new Date()): Suggestion[] {
    const g = this.governance;
    const db = g.ledger.db;
    const since = new Date(now.getTime() - 30 * 86_400_000).toISOString();
    const metrics = db
      .prepare(`SELECT ${AGENT_METRICS_COLUMNS} FROM agent_metrics`)
      .all() as AgentMetricsRow[];
    const agents: AgentRecordSummary[] = metrics.map((m) => {
      const facts = agentRecordFacts(g, m, now);
      const serious = (
        db
          .prepare(
            "SELECT COUNT(*) AS n FROM violations WHERE agent_id = ? AND ts >= ? AND severity IN ('high', 'critical')",
          )
          .get(m.agent_id, since) as { n: number }
      ).n;
      const next = adjacentTier(m.tier, 1);
      const verdict = next
        ? promotionEligibility(facts, thresholdsFor(g.config, next), now)
        : { eligible: false, reasons: ['already at the top tier'] };
      const pending = db
        .prepare(
          `SELECT COUNT(*) AS n FROM ledger_entries r WHERE r.type = 'promotion.requested' AND r.agent_id = ? AND NOT EXISTS (
             SELECT 1 FROM ledger_entries s WHERE s.type = 'promotion.resolved' AND json_extract(s.payload, '$.promotionId') = json_extract(r.payload, '$.promotionId'))`,
        )
        .get(m.agent_id) as { n: number };
      return {
        agentId: m.agent_id,
        tier: m.tier,
        status: m.status,
        eligibleFor: verdict.eligible ? next : null,
        eligibilityReasons: verdict.reasons,
        seriousViolations: serious,
        budgetUsed: facts.budgetUsed,
        budgetLimit: facts.budgetLimit,
        pendingPromotion: pending.n > 0,
        badOutcomes: PullRequestOutcomes.since(g, m.agent_id, since).map((b) => b.evidence),
      };
    });
    const decisionRows = db
      .prepare("SELECT payload FROM ledger_entries WHERE type = 'decision.recorded' AND ts >= ?")
      .all(since) as { payload: string }[];
    const firedRules = new Set<string>();
    const held: { rule: string; approved: boolean; pr: string }[] = [];
    const approvedPrs = new Set(
      (
        db
          .prepare(
            "SELECT repository || '#' || number AS pr FROM decisions WHERE outcome = 'allow' AND ts >= ?",
          )
          .all(since) as { pr: string }[]
      ).map((r) => r.pr),
    );
    for (const row of decisionRows) {
      const p = JSON.parse(row.payload) as {
        repository: string;
        number: number;
        outcome: string;
        rules: { rule: string; status: string }[];
      };
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
    const approvers = (
      db.prepare("SELECT approver FROM approvals WHERE verdict = 'approve' AND ts >= ?").all(since) as {
        approver: string;
      }[]
    ).map((r) => r.approver);
    return suggest({ agents, heldByRule: held, firedRules: [...firedRules], approvers });
  }
}
