import type { LedgerEntryInput, LedgerPayload } from './core/ledger-entries.js';
import { revertedCommits, revertedPullRequest } from './core/reverts.js';
import type { Governance } from './governance.js';

type BadOutcome = LedgerPayload<'pr.bad_outcome'>['outcome'];

/**
 * What happened to agent PRs after their gate: merged, and later reverted or breaking the default
 * branch's CI. Trust follows outcomes, not only gates: a bad outcome counts against the agent that
 * wrote the PR (promotion eligibility and the suggestion engine read it), once per PR and kind.
 */
export class PullRequestOutcomes {
  constructor(private readonly governance: Governance) {}

  /** A PR was merged. An agent's PR is recorded at the agent's tier; a revert PR counts against what it reverts. */
  async merged(
    repository: string,
    pr: { number: number; headSha: string; mergeCommitSha?: string | null; body?: string | null },
  ): Promise<void> {
    const g = this.governance;
    const decision = g.latestDecision(repository, pr.number);
    // A merge counts toward the agent's record only when GitHub ties the PR to it (authenticated).
    const agent =
      decision?.agentId && decision.attribution === 'authenticated'
        ? await g.state.getAgent(decision.agentId)
        : null;
    if (agent) {
      await g.record([
        {
          type: 'pr.merged',
          agentId: agent.id,
          actor: 'github',
          payload: {
            repository,
            number: pr.number,
            headSha: pr.headSha,
            mergeCommitSha: pr.mergeCommitSha ?? null,
            tier: agent.tier,
          },
        },
      ]);
    }
    const reverted = revertedPullRequest(pr.body, repository);
    if (reverted !== null)
      await this.badOutcome(repository, { number: reverted }, 'reverted', `reverted by #${pr.number}`);
  }

  /** Commits pushed: on the default branch, a `git revert` of an agent's merged PR counts against it. */
  async pushed(
    repository: string,
    ref: string,
    defaultBranch: string,
    commits: readonly { id: string; message: string }[],
  ): Promise<void> {
    if (ref !== `refs/heads/${defaultBranch}`) return;
    for (const commit of commits)
      for (const sha of revertedCommits(commit.message))
        await this.badOutcome(repository, { sha }, 'reverted', `reverted by commit ${commit.id.slice(0, 7)}`);
  }

  /** CI failed on the default branch at `sha`: when that is an agent PR's merge, the PR broke it. */
  async defaultBranchFailed(repository: string, sha: string, evidence: string): Promise<void> {
    await this.badOutcome(repository, { sha }, 'broke_default_branch', evidence);
  }

  /** Agents' bad outcomes since `since`, newest last. */
  static since(governance: Governance, agentId: string, since: string): { ts: string; evidence: string }[] {
    return governance.ledger.db
      .prepare(
        `SELECT ts, json_extract(payload, '$.repository') || '#' || json_extract(payload, '$.number') || ' ' ||
                json_extract(payload, '$.evidence') AS evidence
           FROM ledger_entries WHERE type = 'pr.bad_outcome' AND agent_id = ? AND ts >= ? ORDER BY seq`,
      )
      .all(agentId, since) as { ts: string; evidence: string }[];
  }

  private async badOutcome(
    repository: string,
    which: { number: number } | { sha: string },
    outcome: BadOutcome,
    evidence: string,
  ): Promise<void> {
    const db = this.governance.ledger.db;
    // Read and written in one transaction: a redelivered event or a second failing run counts once.
    await this.governance.record((): LedgerEntryInput[] => {
      const merged = (
        'number' in which
          ? db
              .prepare(
                `SELECT agent_id, json_extract(payload, '$.number') AS number FROM ledger_entries
                  WHERE type = 'pr.merged' AND json_extract(payload, '$.repository') = ?
                    AND json_extract(payload, '$.number') = ? ORDER BY seq DESC LIMIT 1`,
              )
              .get(repository, which.number)
          : db
              .prepare(
                `SELECT agent_id, json_extract(payload, '$.number') AS number FROM ledger_entries
                  WHERE type = 'pr.merged' AND json_extract(payload, '$.repository') = ?
                    AND (json_extract(payload, '$.mergeCommitSha') = ? OR json_extract(payload, '$.headSha') = ?)
                  ORDER BY seq DESC LIMIT 1`,
              )
              .get(repository, which.sha, which.sha)
      ) as { agent_id: string; number: number } | undefined;
      if (!merged) return [];
      const counted = db
        .prepare(
          `SELECT 1 FROM ledger_entries WHERE type = 'pr.bad_outcome' AND json_extract(payload, '$.repository') = ?
              AND json_extract(payload, '$.number') = ? AND json_extract(payload, '$.outcome') = ?`,
        )
        .get(repository, merged.number, outcome);
      if (counted) return [];
      return [
        {
          type: 'pr.bad_outcome',
          agentId: merged.agent_id,
          actor: 'github',
          payload: { repository, number: merged.number, outcome, evidence },
        },
      ];
    });
  }
}
