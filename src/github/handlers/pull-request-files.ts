import type { ProbotOctokit } from 'probot';
import type { FileChange } from '../../core/reverts.js';
import type { Repo } from './handler-deps.js';

/** Reads the files a PR changed (GitHub lists up to 3,000), as the revert check compares them. */
export function pullRequestFiles(octokit: ProbotOctokit, repository: Repo) {
  return async (number: number): Promise<FileChange[]> => {
    const files = await octokit.paginate(octokit.rest.pulls.listFiles, {
      owner: repository.owner.login,
      repo: repository.name,
      pull_number: number,
      per_page: 100,
    });
    return files.map((f) => ({
      path: f.filename,
      previousPath: f.previous_filename ?? null,
      status: f.status,
    }));
  };
}
