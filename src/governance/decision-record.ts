import type { LedgerEntryInput, LedgerPayload } from '../core/ledger-entries.js';
import type { AgentStatus } from '../core/lifecycle.js';
import type { Attribution, Decision, GateStatus } from '../core/policy/decision.js';
import type { GateRule } from '../core/policy/gate-tally.js';
import type { PullRequestFacts } from '../core/policy/pull-request-facts.js';
import type { TierId } from '../core/tiers.js';
import type { ViolationReport } from './record-violations.js';

export interface DecisionRecord {
  agentId: string | null;
  repository: string;
  number: number;
  headSha: string;
  outcome: LedgerPayload<'decision.recorded'>['outcome'];
  summary: string;
  tier: TierId | null;
  policyVersion: string | null;
  diffHash: string | null;
  /** What the verdict depended on, as `evaluationInputsKey` digests it (agent PRs only). */
  inputs?: string;
  rules: { rule: string; status: string; summary: string }[];
  violations: ViolationReport[];
  author?: string;
  installationId?: number;
  /** GitHub's `updated_at` of the PR as the event decided on showed it. */
  pullRequestUpdatedAt?: string;
  attribution?: Attribution;
  title?: string;
  url?: string;
  /** The gates still waiting, as the tally needs them (the Slack card tallies with the same rule). */
  gates?: (GateRule & Partial<Pick<GateStatus, 'tally'>>)[];
  files?: {
    path: string;
    previousPath: string | null;
    status: string;
    additions: number;
    deletions: number;
  }[];
}

/** The decision as the ledger stores it: every rule that did not simply pass, with its reason. */
export function decisionRecord(decision: Decision, facts: PullRequestFacts): DecisionRecord {
  return {
    title: facts.title,
    url: facts.url,
    gates: decision.gates
      .filter((g) => !g.satisfied)
      .map(({ approvedBy: _a, rejectedBy: _r, satisfied: _s, ...gate }) => gate),
    attribution: decision.attribution,
    author: facts.author,
    files: facts.files.map((f) => ({
      path: f.path,
      previousPath: f.previousPath,
      status: f.status,
      additions: f.additions,
      deletions: f.deletions,
    })),
    agentId: decision.agentId,
    repository: decision.repository,
    number: decision.number,
    headSha: decision.headSha,
    outcome: decision.outcome,
    summary: decision.summary,
    tier: decision.tier,
    policyVersion: decision.policyVersion,
    diffHash: decision.diffHash,
    rules: decision.rules
      .filter((r) => r.status !== 'pass')
      .map((r) => ({ rule: r.rule, status: r.status, summary: r.summary })),
    violations: decision.violations.map((v) => ({ type: v.type, details: v.details })),
  };
}

/**
 * An allow for an agent that is no longer active (revoked or suspended while its PR was being
 * evaluated) becomes a deny; any other record stands as it is.
 */
export function deniedUnlessActive(record: DecisionRecord, status: AgentStatus | null): DecisionRecord {
  if (record.outcome !== 'allow' || status === null || status === 'active') return record;
  const summary = `Denied: agent ${record.agentId} was ${status} while this PR was being evaluated`;
  return {
    ...record,
    outcome: 'deny',
    summary,
    rules: [...record.rules, { rule: 'agent_status', status: 'fire', summary }],
    violations: [],
  };
}

/** The `decision.recorded` entry for a record, with what triggered the evaluation. */
export function decisionEntry(record: DecisionRecord, trigger: string): LedgerEntryInput {
  return {
    type: 'decision.recorded',
    agentId: record.agentId,
    actor: 'github',
    payload: {
      repository: record.repository,
      number: record.number,
      headSha: record.headSha,
      outcome: record.outcome,
      summary: record.summary,
      tier: record.tier,
      policyVersion: record.policyVersion,
      diffHash: record.diffHash,
      ...(record.inputs ? { inputs: record.inputs } : {}),
      trigger,
      ...(record.pullRequestUpdatedAt ? { pullRequestUpdatedAt: record.pullRequestUpdatedAt } : {}),
      rules: record.rules,
      ...(record.author ? { author: record.author } : {}),
      ...(record.installationId ? { installationId: record.installationId } : {}),
      ...(record.title !== undefined ? { title: record.title } : {}),
      ...(record.url !== undefined ? { url: record.url } : {}),
      ...(record.gates ? { gates: record.gates } : {}),
      ...(record.files ? { files: record.files } : {}),
      ...(record.attribution ? { attribution: record.attribution } : {}),
    },
  };
}
