import type { LedgerEntryInput, LedgerPayload } from '../core/ledger-entries.js';
import {
  type FileChange,
  pushedChanges,
  revertedCommits,
  revertedPullRequest,
  undoes,
} from '../core/reverts.js';
import { decisionsAsync } from '../ledger/queries/decisions.js';
import { outcomesAsync } from '../ledger/queries/outcomes.js';
import type { Governance } from './governance.js';

type BadOutcome = LedgerPayload<'pr.bad_outcome'>['outcome'];

/** The files a merged PR changed, read from GitHub when the ledger did not record them. */
export type FilesOfPullRequest = (number: number) => Promise<FileChange[]>;

/** A pushed commit as the push payload lists it, with the files it added, removed and modified. */
export interface PushedCommit {
  id: string;
  message: string;
  added?: readonly string[] | undefined;
  removed?: readonly string[] | undefined;
  modified?: readonly string[] | undefined;
}

/**
 * What happened to agent PRs after their gate: merged, and later reverted or breaking the default
 * branch's CI. Trust follows outcomes, not only gates: a bad outcome counts against the agent that
 * wrote the PR (promotion eligibility and the suggestion engine read it), once per PR and kind.
 */
export class PullRequestOutcomes {
  constructor(private readonly governance: Governance) {}

  /**
   * A PR was merged. An agent's PR is recorded at the agent's tier; a revert PR counts against what
   * it reverts only when its files (`revertFiles`, read by the adapter) undo the original's.
   */
  async merged(
    repository: string,
    pr: { number: number; headSha: string; mergeCommitSha?: string | null; body?: string | null },
    revert: { files: () => Promise<FileChange[]>; filesOf: FilesOfPullRequest } | null = null,
  ): Promise<void> {
    const g = this.governance;
    const decision = await g.latestDecision(repository, pr.number);
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
    if (reverted !== null && revert)
      await this.reverted(
        repository,
        { number: reverted },
        revert.files,
        revert.filesOf,
        `reverted by #${pr.number}`,
      );
  }

  /**
   * Commits pushed: on the default branch, a `git revert` of an agent's merged PR counts against it
   * when the commit's files undo the merge's.
   */
  async pushed(
    repository: string,
    ref: string,
    defaultBranch: string,
    commits: readonly PushedCommit[],
    filesOf: FilesOfPullRequest,
  ): Promise<void> {
    if (ref !== `refs/heads/${defaultBranch}`) return;
    for (const commit of commits)
      for (const sha of revertedCommits(commit.message))
        await this.reverted(
          repository,
          { sha },
          async () => pushedChanges(commit),
          filesOf,
          `reverted by commit ${commit.id.slice(0, 7)}`,
        );
  }

  /** A revert of `which`: a bad outcome for its agent when the revert's files undo the merged PR's. */
  private async reverted(
    repository: string,
    which: { number: number } | { sha: string },
    revertFiles: () => Promise<FileChange[]>,
    filesOf: FilesOfPullRequest,
    evidence: string,
  ): Promise<void> {
    const { reader } = this.governance.store;
    const merged = await outcomesAsync.mergedPullRequest(reader, repository, which);
    if (!merged) return; // not an agent's merged PR: nothing to charge, nothing to read
    // The files the PR's decision at its merged head recorded (or the newest decision that recorded
    // any); from GitHub when the ledger holds none.
    const recorded =
      (await decisionsAsync.recordedFiles(reader, repository, merged.number, merged.headSha)) ?? [];
    const original = recorded.length > 0 ? recorded : await filesOf(merged.number);
    if (!undoes(await revertFiles(), original).undoes) return;
    await this.badOutcome(repository, which, 'reverted', evidence);
  }

  /** CI failed on the default branch at `sha`: when that is an agent PR's merge, the PR broke it. */
  async defaultBranchFailed(repository: string, sha: string, evidence: string): Promise<void> {
    await this.badOutcome(repository, { sha }, 'broke_default_branch', evidence);
  }

  private async badOutcome(
    repository: string,
    which: { number: number } | { sha: string },
    outcome: BadOutcome,
    evidence: string,
  ): Promise<void> {
    // Decided from the ledger as its entry extends it: a redelivered event or a second failing run counts once.
    await this.governance.record(async ({ reader }): Promise<LedgerEntryInput[]> => {
      const merged = await outcomesAsync.mergedPullRequest(reader, repository, which);
      if (!merged || (await outcomesAsync.badOutcomeCounted(reader, repository, merged.number, outcome)))
        return [];
      return [
        {
          type: 'pr.bad_outcome',
          agentId: merged.agentId,
          actor: 'github',
          payload: { repository, number: merged.number, outcome, evidence },
        },
      ];
    });
  }
}
