/**
 * The merge-queue verdict: a merge group passes only when every PR in it would pass its own check
 * now. Pure: the adapter finds the PRs, their recorded decisions and their agents' current status.
 */
import type { AgentStatus } from './lifecycle.js';
import type { CheckRunRender } from './policy/render-check-run.js';

/** The outcomes under which a PR's own check passes (an unknown author's `neutral` counts as passing). */
const PASSING = new Set(['allow', 'not_agent']);

/** One PR of a merge group, as the adapter found it. */
export interface MergeGroupMember {
  number: number;
  /** The PR's head commit now. */
  headSha: string;
  /** The newest decision recorded on the PR, whatever its head. */
  decision: { headSha: string; outcome: string; agentId: string | null } | null;
  /**
   * The agent the PR belongs to now (by its decision, or by its author's login registered since),
   * with its status: the ledger's, made `revoked` by a revoke signal the state store holds.
   */
  agent: { id: string; status: AgentStatus | null } | null;
}

export interface MergeGroupMemberVerdict {
  number: number;
  headSha: string;
  agentId: string | null;
  passed: boolean;
  reason: string;
}

export interface MergeGroupVerdict {
  conclusion: 'success' | 'failure';
  title: string;
  summary: string;
  pullRequests: MergeGroupMemberVerdict[];
}

/** Why one PR passes or fails in the queue. Fail closed: anything but a current passing decision fails. */
export function memberVerdict(m: MergeGroupMember): MergeGroupMemberVerdict {
  const agentId = m.agent?.id ?? m.decision?.agentId ?? null;
  const verdict = (passed: boolean, reason: string) => ({
    number: m.number,
    headSha: m.headSha,
    agentId,
    passed,
    reason,
  });
  if (m.agent && m.agent.status !== 'active')
    return verdict(false, `agent \`${m.agent.id}\` is ${m.agent.status ?? 'not registered'}`);
  if (!m.decision) return verdict(false, 'no decision is recorded');
  if (m.decision.headSha !== m.headSha)
    return verdict(
      false,
      `decided at ${m.decision.headSha.slice(0, 7)}, but its head is ${m.headSha.slice(0, 7)}`,
    );
  if (m.agent && m.decision.agentId !== m.agent.id)
    return verdict(false, `its author is agent \`${m.agent.id}\` now, and no decision judged that agent`);
  if (!PASSING.has(m.decision.outcome)) return verdict(false, m.decision.outcome);
  return verdict(true, m.decision.outcome);
}

/**
 * The verdict on a merge group. `problem` says why its PRs could not be determined; then, or when
 * none was found, the group fails.
 */
export function mergeGroupVerdict(
  members: readonly MergeGroupMember[],
  problem: string | null,
): MergeGroupVerdict {
  if (problem !== null || members.length === 0) {
    return {
      conclusion: 'failure',
      title: 'The PRs in this merge group could not be determined',
      summary: `${problem ?? 'No pull request was found in this merge group.'} A merge group passes only when each of its PRs is known to pass.`,
      pullRequests: [],
    };
  }
  const prs = [...members].sort((a, b) => a.number - b.number).map(memberVerdict);
  const failed = prs.filter((p) => !p.passed);
  const rows = prs.map(
    (p) =>
      `| #${p.number} | ${p.agentId ? `\`${p.agentId}\`` : '—'} | ${p.passed ? '✅' : '❌'} ${p.reason} |`,
  );
  return {
    conclusion: failed.length === 0 ? 'success' : 'failure',
    title:
      failed.length === 0
        ? 'Every PR in this merge group passed Agent Governance'
        : `${failed.map((p) => `PR #${p.number}`).join(', ')} ${failed.length === 1 ? 'has' : 'have'} not passed Agent Governance`,
    summary: [
      'Each PR in the group is judged by its own check at its head commit, with its agent as it stands now.',
      '',
      '| PR | agent | verdict |',
      '|---|---|---|',
      ...rows,
    ].join('\n'),
    pullRequests: prs,
  };
}

/** The check run on the merge group's head commit. */
export function renderMergeGroup(verdict: MergeGroupVerdict): CheckRunRender {
  return {
    status: 'completed',
    conclusion: verdict.conclusion,
    output: { title: verdict.title, summary: verdict.summary, annotations: [] },
  };
}
