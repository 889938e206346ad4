import { createHash } from 'node:crypto';
import type { AgentRecord } from '../agent.js';
import type { OrgConfig } from '../org-config.js';
import type { TierCapabilities } from '../tiers.js';
import { severityOf } from '../violations.js';
import type { ApprovalReceipt, Decision, GateStatus, Outcome, RuleResult } from './decision.js';
import type { Policy } from './policy-schema.js';
import type { PullRequestFacts } from './pull-request-facts.js';
import { RULES } from './rules.js';

export const CHECK_NAME = 'Agent Governance';

export interface AgentState {
  agent: AgentRecord;
  /** Approvals and rejections given on this PR, any head; `evaluate` decides which still count. */
  receipts: readonly ApprovalReceipt[];
  org: Pick<OrgConfig, 'approvers' | 'council'>;
}

/** sha256 over each changed file's path, status and blob: a new push with the same diff keeps it. */
export function diffHash(facts: PullRequestFacts): string {
  const lines = facts.files
    .map((f) => `${f.path}\0${f.previousPath ?? ''}\0${f.status}\0${f.blobSha ?? ''}`)
    .sort();
  return createHash('sha256').update(lines.join('\n')).digest('hex');
}

/**
 * Evaluates a PR: a pure function of the policy, the agent's tier capabilities, the PR facts and
 * the agent's state. Every rule the pipeline names runs, so the decision explains itself fully.
 */
export function evaluate(
  policy: Policy,
  capabilities: TierCapabilities,
  facts: PullRequestFacts,
  state: AgentState,
): Decision {
  const { agent } = state;
  const rules: RuleResult[] = [];
  for (const stage of policy.pipeline.stages) {
    for (const id of stage.rules) {
      const settings = policy.rules[id] as { enabled?: boolean };
      if (settings.enabled === false) {
        rules.push({
          rule: id,
          stage: stage.type,
          status: 'skip',
          action: null,
          gate: null,
          summary: 'disabled by the policy',
          violation: null,
          annotations: [],
        });
        continue;
      }
      rules.push(RULES[id]({ policy, capabilities, facts, agent, ownCheckName: CHECK_NAME }, stage.type));
    }
  }
  const hash = diffHash(facts);
  const gates = gateStatuses(policy, rules, facts, hash, state);
  const denied = rules.filter((r) => r.status === 'fire' && r.action === 'deny');
  const rejected = gates.filter((g) => g.rejectedBy.length > 0);
  const pending = rules.filter((r) => r.status === 'pending');
  const waitingGates = gates.filter((g) => !g.satisfied);

  let outcome: Outcome;
  let summary: string;
  if (denied.length > 0) {
    outcome = 'deny';
    summary = `Denied: ${denied.map((r) => r.summary).join('; ')}`;
  } else if (rejected.length > 0) {
    outcome = 'deny';
    summary = `Rejected by ${rejected.flatMap((g) => g.rejectedBy).join(', ')}`;
  } else if (pending.length > 0) {
    outcome = 'pending';
    summary = `Waiting: ${pending.map((r) => r.summary).join('; ')}`;
  } else if (waitingGates.length > 0) {
    outcome = 'require_approval';
    summary = `Needs approval: ${waitingGates.map(describeNeed).join('; ')}`;
  } else {
    outcome = 'allow';
    summary =
      gates.length > 0
        ? `Approved by ${[...new Set(gates.flatMap((g) => g.approvedBy))].join(', ')}`
        : 'Allowed: every rule passed';
  }

  return {
    outcome,
    summary,
    agentId: agent.id,
    tier: agent.tier,
    repository: facts.repository,
    number: facts.number,
    headSha: facts.headSha,
    diffHash: hash,
    policyVersion: policy.version,
    policySource: policy.source,
    rules,
    gates,
    violations: denied
      .filter((r) => r.violation !== null)
      .map((r) => ({ type: r.violation!, severity: severityOf(r.violation!), details: r.summary })),
    changedFiles: facts.files.length,
    changedLines: facts.files.reduce((n, f) => n + f.additions + f.deletions, 0),
  };
}

function describeNeed(g: GateStatus): string {
  const who = g.council ? 'the council' : g.eligible.length ? g.eligible.join(', ') : 'a reviewer';
  return `${g.approvals - g.approvedBy.length} more approval(s) from ${who} (gate ${g.gate})`;
}

function gateStatuses(
  policy: Policy,
  rules: RuleResult[],
  facts: PullRequestFacts,
  hash: string,
  state: AgentState,
): GateStatus[] {
  const names = [
    ...new Set(
      rules.filter((r) => r.status === 'fire' && r.action === 'require_approval').map((r) => r.gate!),
    ),
  ];
  return names.map((name) => {
    const gate = policy.gates[name] ??
      policy.gates.default ?? {
        approvals: 1,
        approvers: [],
        council: false,
        allow_owner: false,
        expiry_hours: 72,
        on_expiry: 'reject' as const,
        survive_push: false,
        github_reviews: true,
      };
    const council = gate.council ? state.org.council : undefined;
    const eligible = council
      ? council.members
      : gate.approvers.length
        ? gate.approvers
        : state.org.approvers.map((a) => a.github);
    const approvals = council ? council.quorum : gate.approvals;
    const counts = (r: ApprovalReceipt) =>
      (r.gate === null || r.gate === name) &&
      r.policyVersion === policy.version &&
      (gate.survive_push || (r.headSha === facts.headSha && r.diffHash === hash)) &&
      (gate.github_reviews || r.source !== 'github_review') &&
      r.approver !== state.agent.id &&
      !state.agent.identities.githubLogins.includes(r.approver) &&
      r.approver !== facts.author &&
      (gate.allow_owner || r.approver !== state.agent.owner) &&
      isNamedApprover({ council: Boolean(council), eligible }, r.approver);
    // The newest verdict of each approver is the one that counts.
    const latest = new Map<string, ApprovalReceipt>();
    for (const r of [...state.receipts].sort((a, b) => a.at.localeCompare(b.at)))
      if (counts(r)) latest.set(r.approver, r);
    const approvers = [...latest.values()]
      .filter((r) => r.verdict === 'approve')
      .map((r) => r.approver)
      .sort();
    // Separation of duties: with distinct_teams, a council quorum counts one approval per team.
    const approvedBy = council?.distinct_teams ? onePerTeam(approvers, state.org.approvers) : approvers;
    const rejections = [...latest.values()]
      .filter((r) => r.verdict === 'reject')
      .map((r) => r.approver)
      .sort();
    // A rejection stops a plain gate, and a council with a veto. Without a veto, a council member's
    // rejection is a vote against: it stops the gate only once the quorum can no longer be reached.
    const quorumLost = council ? council.members.length - rejections.length < approvals : true;
    const rejectedBy = !council || council.veto || quorumLost ? rejections : [];
    return {
      gate: name,
      approvals,
      council: Boolean(council),
      eligible,
      allowOwner: gate.allow_owner,
      expiryHours: gate.expiry_hours,
      onExpiry: gate.on_expiry,
      approvedBy,
      rejectedBy,
      satisfied: approvedBy.length >= approvals && rejectedBy.length === 0,
    };
  });
}

/**
 * Whether `login` is among those a gate names. A plain gate that names nobody takes any approver; a
 * council that has nobody (a user group not read yet) takes nobody.
 */
export function isNamedApprover(
  gate: { council: boolean; eligible: readonly string[] },
  login: string,
): boolean {
  return gate.eligible.includes(login) || (!gate.council && gate.eligible.length === 0);
}

/** The first approver of each team (an approver in no team is a team of their own). */
export function onePerTeam(
  approvers: string[],
  directory: readonly { github: string; teams: string[] }[],
): string[] {
  const seen = new Set<string>();
  return approvers.filter((login) => {
    const teams = directory.find((a) => a.github === login)?.teams ?? [];
    const key = teams.length ? teams : [`user:${login}`];
    if (key.some((t) => seen.has(t))) return false;
    for (const t of key) seen.add(t);
    return true;
  });
}
