/**
 * How a revert names what it undoes, as GitHub and git write it. Pure text parsing.
 *
 * - GitHub's "Revert" button opens a PR titled `Revert "…"` whose body begins `Reverts owner/repo#123`.
 * - `git revert` writes `This reverts commit <sha>.` into the commit message.
 */

/** The PR number a revert PR undoes, when its body names one in `repository`. */
export function revertedPullRequest(body: string | null | undefined, repository: string): number | null {
  const match = /^Reverts ([\w.-]+\/[\w.-]+)#(\d+)\b/m.exec(body ?? '');
  if (!match || match[1]!.toLowerCase() !== repository.toLowerCase()) return null;
  return Number(match[2]);
}

/** Every commit a commit message says it reverts. */
export function revertedCommits(message: string): string[] {
  return [...message.matchAll(/This reverts commit ([0-9a-f]{40})\b/g)].map((m) => m[1]!);
}
