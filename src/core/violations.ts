/**
 * The 14 violation types, the 4 severities and the one severity map. Every module that names a
 * violation imports it from here.
 */
export const SEVERITIES = ['critical', 'high', 'medium', 'low'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const VIOLATION_TYPES = [
  'unauthorized_path',
  'protected_path_modified',
  'secret_exposure',
  'diff_size_exceeded',
  'tier_action_forbidden',
  'approval_bypass_attempt',
  'revoked_agent_activity',
  'ci_failure',
  'heartbeat_missed',
  'lock_violation',
  'error_budget_exhausted',
  'rate_limit_exceeded',
  'policy_config_tampering',
  'dependency_change_unreviewed',
] as const;
export type ViolationType = (typeof VIOLATION_TYPES)[number];

export interface ViolationInfo {
  severity: Severity;
  /** One sentence a reviewer or approver understands. */
  description: string;
}

export const VIOLATIONS: Readonly<Record<ViolationType, ViolationInfo>> = {
  unauthorized_path: {
    severity: 'high',
    description: 'Changed a path outside what its tier allows.',
  },
  protected_path_modified: {
    severity: 'high',
    description: 'Changed a protected path without the approval it needs.',
  },
  secret_exposure: { severity: 'critical', description: 'Added a credential or secret in plain text.' },
  diff_size_exceeded: {
    severity: 'medium',
    description: 'Changed more files or lines than its tier allows.',
  },
  tier_action_forbidden: { severity: 'high', description: 'Attempted an action its tier does not grant.' },
  approval_bypass_attempt: {
    severity: 'critical',
    description: 'Tried to pass a gate without the approvals it requires.',
  },
  revoked_agent_activity: {
    severity: 'critical',
    description: 'Acted after its access was revoked or suspended.',
  },
  ci_failure: { severity: 'low', description: 'A CI run on its pull request failed.' },
  heartbeat_missed: {
    severity: 'medium',
    description: 'Stopped heartbeating while holding an execution lock.',
  },
  lock_violation: { severity: 'high', description: 'Acted under a lock it does not hold.' },
  error_budget_exhausted: { severity: 'high', description: 'Used up its error budget for the window.' },
  rate_limit_exceeded: { severity: 'medium', description: 'Made more requests than its rate allows.' },
  policy_config_tampering: {
    severity: 'critical',
    description: 'Changed the governance configuration that judges it.',
  },
  dependency_change_unreviewed: {
    severity: 'medium',
    description: 'Changed dependency manifests or lock files without review.',
  },
};

export function severityOf(type: ViolationType): Severity {
  return VIOLATIONS[type].severity;
}

/** What a violation of each severity does to its agent. Configurable per organisation. */
export const CONSEQUENCES = ['revoke', 'suspend', 'demote', 'charge_budget'] as const;
export type Consequence = (typeof CONSEQUENCES)[number];

export const DEFAULT_CONSEQUENCES: Readonly<Record<Severity, Consequence>> = {
  critical: 'revoke',
  high: 'suspend',
  medium: 'charge_budget',
  low: 'charge_budget',
};

/** Error-budget points charged per violation severity when the consequence is `charge_budget`. */
export const DEFAULT_BUDGET_CHARGES: Readonly<Record<Severity, number>> = {
  critical: 100,
  high: 20,
  medium: 5,
  low: 1,
};
