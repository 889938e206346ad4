import type { WebhookPullRequest } from './webhook-schemas.js';

/** Everything needed to evaluate one PR and to post its check run. */
export interface PullRequestTarget {
  installationId: number;
  owner: string;
  repo: string;
  defaultBranch: string;
  pr: {
    number: number;
    title: string;
    url: string;
    author: string;
    headSha: string;
    baseRef: string;
    draft: boolean;
    /** Files GitHub says the PR changes (it lists at most 3,000); absent when not told. */
    changedFiles?: number;
    /** GitHub's `updated_at` of the PR as the event showed it; absent when not told. */
    updatedAt?: string;
    /** The head the PR moved from (a `synchronize`'s `before`); absent for every other event. */
    movedFrom?: string;
  };
}

export function targetOf(
  installationId: number,
  repository: { name: string; owner: { login: string }; default_branch: string },
  pr: WebhookPullRequest,
): PullRequestTarget {
  return {
    installationId,
    owner: repository.owner.login,
    repo: repository.name,
    defaultBranch: repository.default_branch,
    pr: {
      number: pr.number,
      title: pr.title,
      url: pr.html_url,
      author: pr.user.login,
      headSha: pr.head.sha,
      baseRef: pr.base.ref,
      draft: pr.draft ?? false,
      ...(pr.changed_files !== undefined ? { changedFiles: pr.changed_files } : {}),
      ...(pr.updated_at !== undefined ? { updatedAt: pr.updated_at } : {}),
    },
  };
}
