import type { StageType } from '../lifecycle.js';
import type { TierId } from '../tiers.js';
import type { Severity, ViolationType } from '../violations.js';
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

export interface GateStatus {
  gate: string;
  approvals: number;
  council: boolean;
  /** Who may approve; empty when any human reviewer may. */
  eligible: string[];
  allowOwner: boolean;
  expiryHours: number;
  onExpiry: 'reject' | 'escalate';
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
  changedFiles: number;
  changedLines: number;
}
