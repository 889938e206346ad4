import { createHash } from 'node:crypto';
import type { AgentRecord } from '../agent.js';
import type { OrgConfig } from '../org-config.js';
import type { TierCapabilities } from '../tiers.js';
import { severityOf } from '../violations.js';
import type { ApprovalReceipt, Attribution, Decision, GateStatus, Outcome, RuleResult } from './decision.js';
import { gateStatuses } from './gate-statuses.js';
import type { Policy } from './policy-schema.js';
import type { PullRequestFacts } from './pull-request-facts.js';
import { RULES } from './rules.js';

export { directoryFor, gateRule } from './gate-statuses.js';

export const CHECK_NAME = 'Agent Governance';

export interface AgentState {
  agent: AgentRecord;
  /** Approvals and rejections given on this PR, any head; `evaluate` decides which still count. */
  receipts: readonly ApprovalReceipt[];
  org: Pick<OrgConfig, 'approvers' | 'council'> & Partial<Pick<OrgConfig, 'people'>>;
  /** Logins and ids of every registered agent: none of them ever approves anything. */
  agentIdentities?: readonly string[];
  /** When the PR began to wait for people at this head: every gate's deadline runs from there. */
  waitingSince?: string;
  /** How the PR is tied to the agent; by default, its author is one of the agent's logins. */
  attribution?: Attribution;
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
  now: Date,
): Decision {
  const { agent } = state;
  const attribution = state.attribution ?? {
    strength: 'authenticated',
    via: `author ${facts.author}`,
    author: facts.author,
  };
  const rules = runRules(policy, capabilities, facts, agent);
  const hash = diffHash(facts);
  const gates = gateStatuses(policy, rules, facts, hash, state, now);
  const denied = rules.filter((r) => r.status === 'fire' && r.action === 'deny');
  return {
    ...verdict(rules, denied, gates),
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
    // A claimed attribution may make the gate stricter; it never records anything against the agent.
    violations:
      attribution.strength === 'authenticated'
        ? denied
            .filter((r) => r.violation !== null)
            .map((r) => ({ type: r.violation!, severity: severityOf(r.violation!), details: r.summary }))
        : [],
    attribution,
    changedFiles: facts.files.length,
    changedLines: facts.files.reduce((n, f) => n + f.additions + f.deletions, 0),
  };
}

/** Every rule the pipeline names, stage by stage; a rule the policy disables is a skip. */
function runRules(
  policy: Policy,
  capabilities: TierCapabilities,
  facts: PullRequestFacts,
  agent: AgentRecord,
): RuleResult[] {
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
  return rules;
}

/**
 * The outcome and its one-line summary. A denying rule wins, then a gate people rejected, vetoed
 * or let expire (expiry never approves), then a rule still waiting for facts, then a gate waiting
 * for approvals; only then is the PR allowed.
 */
function verdict(
  rules: readonly RuleResult[],
  denied: readonly RuleResult[],
  gates: readonly GateStatus[],
): { outcome: Outcome; summary: string } {
  const rejected = gates.filter((g) => ['rejected', 'vetoed', 'expired'].includes(g.tally.state));
  const pending = rules.filter((r) => r.status === 'pending');
  const waitingGates = gates.filter((g) => !g.satisfied);
  if (denied.length > 0)
    return { outcome: 'deny', summary: `Denied: ${denied.map((r) => r.summary).join('; ')}` };
  if (rejected.length > 0) {
    const by = [...new Set(rejected.flatMap((g) => g.rejectedBy))];
    const expired = rejected.filter((g) => g.tally.state === 'expired');
    const summary = [
      ...(by.length ? [`Rejected by ${by.join(', ')}`] : []),
      ...expired.map((g) => `Rejected: ${g.tally.description}`),
    ].join('; ');
    return { outcome: 'deny', summary };
  }
  if (pending.length > 0)
    return { outcome: 'pending', summary: `Waiting: ${pending.map((r) => r.summary).join('; ')}` };
  if (waitingGates.length > 0) {
    const summary = `Needs approval: ${waitingGates.map((g) => g.tally.description).join('; ')}`;
    return { outcome: 'require_approval', summary };
  }
  const summary =
    gates.length > 0
      ? `Approved by ${[...new Set(gates.flatMap((g) => g.approvedBy))].join(', ')}`
      : 'Allowed: every rule passed';
  return { outcome: 'allow', summary };
}

/**
 * The secret scan alone, for a PR no agent is tied to: a secret found denies (nobody is charged);
 * nothing else of the agent rules applies.
 */
export function scanForSecrets(policy: Policy, facts: PullRequestFacts): RuleResult {
  const strict: Policy = {
    ...policy,
    rules: { ...policy.rules, secrets: { ...policy.rules.secrets, action: 'deny' } },
  };
  return RULES.secrets(
    {
      policy: strict,
      capabilities: {
        actions: [],
        allowedPaths: [],
        maxChangedFiles: 0,
        maxChangedLines: 0,
        mayPassWithoutHuman: false,
        vaultReadPaths: [],
      },
      facts,
      agent: {
        id: 'none',
        name: 'none',
        owner: null,
        tier: 'T0',
        status: 'active',
        identities: { githubLogins: [], trailers: [] },
        tokenHash: null,
        registeredAt: '',
        tierSince: '',
      },
      ownCheckName: CHECK_NAME,
    },
    'execute',
  );
}
