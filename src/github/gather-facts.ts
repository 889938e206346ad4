import type { ProbotOctokit } from 'probot';
import { CHECK_NAME } from '../core/policy/evaluate.js';
import {
  addedLinesOf,
  type ChangedFile,
  coAuthorsOf,
  type PullRequestFacts,
} from '../core/policy/pull-request-facts.js';
import type { CommitClaim } from '../governance/identify-agent.js';
import type { PullRequestTarget } from './pull-request-target.js';

/**
 * What each commit of the PR claims about its authors (Co-Authored-By trailers) and whether GitHub
 * verified its signature (GitHub lists up to 250 commits). Only needed when the PR's author is not
 * an agent login: a trailer is then the only tie to an agent.
 */
export async function gatherCommits(octokit: ProbotOctokit, t: PullRequestTarget): Promise<CommitClaim[]> {
  const commits = await octokit.paginate(octokit.rest.pulls.listCommits, {
    owner: t.owner,
    repo: t.repo,
    pull_number: t.pr.number,
    per_page: 100,
  });
  return commits.map((c) => ({
    coAuthors: coAuthorsOf(c.commit.message),
    verified: c.commit.verification?.verified === true,
    authorEmail: c.commit.author?.email ?? null,
  }));
}

/** The facts the evaluator needs, fetched with pagination (a PR may list up to 3,000 files). */
export async function gatherFacts(
  octokit: ProbotOctokit,
  t: PullRequestTarget,
  coAuthors: string[],
  options: { needChecks: boolean },
): Promise<PullRequestFacts> {
  const [files, checks] = await Promise.all([
    octokit.paginate(octokit.rest.pulls.listFiles, {
      owner: t.owner,
      repo: t.repo,
      pull_number: t.pr.number,
      per_page: 100,
    }),
    options.needChecks
      ? octokit.paginate(octokit.rest.checks.listForRef, {
          owner: t.owner,
          repo: t.repo,
          ref: t.pr.headSha,
          per_page: 100,
        })
      : Promise.resolve([]),
  ]);
  const unlisted = t.pr.changedFiles !== undefined ? Math.max(0, t.pr.changedFiles - files.length) : 0;
  return {
    ...(unlisted > 0 ? { unlistedFiles: unlisted } : {}),
    repository: `${t.owner}/${t.repo}`,
    number: t.pr.number,
    title: t.pr.title,
    url: t.pr.url,
    author: t.pr.author,
    headSha: t.pr.headSha,
    baseRef: t.pr.baseRef,
    draft: t.pr.draft,
    files: files.map(
      (f): ChangedFile => ({
        path: f.filename,
        previousPath: f.previous_filename ?? null,
        status: f.status,
        additions: f.additions,
        deletions: f.deletions,
        blobSha: f.status === 'removed' ? null : f.sha,
        // No patch is never "nothing added": binary files come with 0 additions (the core decides).
        addedLines: typeof f.patch === 'string' ? addedLinesOf(f.patch) : null,
      }),
    ),
    coAuthors,
    checks: checks
      .filter((c) => c.name !== CHECK_NAME)
      .map((c) => ({ name: c.name, status: c.status, conclusion: c.conclusion ?? null })),
  };
}
