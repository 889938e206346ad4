import type { StageType } from '../lifecycle.js';
import type { TierId } from '../tiers.js';
import type { Severity, ViolationType } from '../violations.js';
import type { GateRule, GateTally } from './gate-tally.js';
import type { RuleId } from './policy-schema.js';

export interface Annotation {
  path: string;
  startLine: number;
  endLine: number;
  level: 'failure' | 'warning' | 'notice';
  title: string;
  message: string;
}

/** What one rule checked, what it saw, and what it concluded. */
export interface RuleResult {
  rule: RuleId;
  stage: StageType;
  /** `fire`: the rule holds the PR back; `pending`: it waits for facts not there yet (CI). */
  status: 'pass' | 'fire' | 'pending' | 'skip';
  action: 'deny' | 'require_approval' | null;
  gate: string | null;
  /** One line for the summary table. */
  summary: string;
  violation: ViolationType | null;
  annotations: Annotation[];
}

export interface ApprovalReceipt {
  approver: string;
  verdict: 'approve' | 'reject';
  gate: string | null;
  headSha: string;
  diffHash: string;
  policyVersion: string;
  source: 'github_review' | 'slack' | 'cli';
  at: string;
}

/** A gate of the decision: its resolved rule and the one tally's answer for this PR. */
export interface GateStatus extends GateRule {
  tally: GateTally;
  /** Approvers whose receipts count for this head, diff and policy. */
  approvedBy: string[];
  rejectedBy: string[];
  satisfied: boolean;
}

export interface DecisionViolation {
  type: ViolationType;
  severity: Severity;
  details: string;
}

export type Outcome = 'allow' | 'require_approval' | 'deny' | 'pending';

/**
 * One evaluation of a PR. The check run, the Slack message, the CLI table and the ledger entry are
 * renderings of this.
 */
export interface Decision {
  outcome: Outcome;
  /** One sentence for the check run title. */
  summary: string;
  agentId: string;
  tier: TierId;
  repository: string;
  number: number;
  headSha: string;
  diffHash: string;
  policyVersion: string;
  policySource: string;
  rules: RuleResult[];
  gates: GateStatus[];
  violations: DecisionViolation[];
  /**
   * How the PR is tied to its agent: `authenticated` when GitHub vouches for it (the author is one
   * of the agent's logins), `claimed` when only something anyone can write says so (a trailer).
   */
  attribution: Attribution;
  changedFiles: number;
  changedLines: number;
}

export interface Attribution {
  strength: 'authenticated' | 'claimed';
  /** What tied the PR to the agent: `author docs-bot[bot]`, `trailer Claude <noreply@…>`. */
  via: string;
  /** The PR's author when it is not the agent (a human whose PR claims the agent). */
  author: string;
}
