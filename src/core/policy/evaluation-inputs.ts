import { createHash } from 'node:crypto';
import type { AgentRecord } from '../agent.js';
import { pushedChanges } from '../reverts.js';
import { CODEOWNERS_PATHS } from './codeowners.js';
import type { ApprovalReceipt } from './decision.js';
import { POLICY_FILE } from './policy-schema.js';

/**
 * Everything a PR's verdict depends on except the clock (expiry is decided on its own) and its CI
 * results: the PR as judged, its diff, the policy, the agent as it stands, the receipts given, and
 * the organisation's people and rules. Two evaluations with equal inputs reach the same answer.
 */
export interface EvaluationInputs {
  pr: { headSha: string; baseRef: string; title: string; draft: boolean; author: string };
  diffHash: string;
  policyVersion: string;
  agent: Pick<AgentRecord, 'id' | 'tier' | 'status' | 'owner'>;
  receipts: readonly ApprovalReceipt[];
  /** Logins and ids of every registered agent (none of them approves). */
  agentIdentities: readonly string[];
  /** The organisation config as the core is given it (tiers, approvers, council, people). */
  org: unknown;
  /** The CODEOWNERS and team members a code-owners gate was judged with (absent: none used). */
  codeOwners?: unknown;
}

/** A digest of the inputs: recorded with a decision, so an unchanged PR is neither judged nor sent again. */
export function evaluationInputsKey(inputs: EvaluationInputs): string {
  const { agent, pr } = inputs;
  return createHash('sha256')
    .update(
      JSON.stringify([
        [pr.headSha, pr.baseRef, pr.title, pr.draft, pr.author],
        inputs.diffHash,
        inputs.policyVersion,
        [agent.id, agent.tier, agent.status, agent.owner],
        inputs.receipts,
        [...inputs.agentIdentities].sort(), // the order a restart rebuilds them in is not theirs
        inputs.org,
        // Only when used, so the keys of decisions that never read CODEOWNERS stay as they were.
        ...(inputs.codeOwners === undefined ? [] : [inputs.codeOwners]),
      ]),
    )
    .digest('hex');
}

/**
 * Whether a push's commits change the policy file or a CODEOWNERS file (added, modified or
 * removed): the files the service keeps read. Commits without their file lists say nothing about
 * it (GitHub lists them on every push it sends).
 */
export function changesGovernanceFiles(
  commits: readonly {
    added?: readonly string[];
    removed?: readonly string[];
    modified?: readonly string[];
  }[],
): boolean {
  const kept = new Set<string>([POLICY_FILE, ...CODEOWNERS_PATHS]);
  return commits.some((c) => pushedChanges(c).some((change) => kept.has(change.path)));
}
