import type { ProbotOctokit } from 'probot';
import { type CodeOwnersFacts, teamKey, teamsNamed } from '../core/policy/code-owner-groups.js';
import { CODEOWNERS_PATHS } from '../core/policy/codeowners.js';
import type { Policy } from '../core/policy/policy-schema.js';
import { PolicyCache } from './policy-cache.js';
import { readCached, readCachedFile } from './read-cached.js';

/** Whether a rule of the policy can hold a PR for a gate that code owners approve. */
export function usesCodeOwners(policy: Policy): boolean {
  return Object.values(policy.rules).some((r) => {
    const rule = r as { enabled?: boolean; gate?: string };
    return (
      rule.enabled !== false && rule.gate !== undefined && policy.gates[rule.gate]?.approvers === 'codeowners'
    );
  });
}

/**
 * Reads CODEOWNERS for the policies that need it: the files through the policy cache, team
 * members through a cache of their own (no webhook says a team changed, so a page is asked again,
 * with its ETag, once it is ten minutes old).
 */
export class CodeOwnersReader {
  private readonly teams = new PolicyCache({ maxAgeMs: 10 * 60_000 });

  constructor(private readonly files: PolicyCache) {}

  /** The default branch's CODEOWNERS and its teams, when a gate of `policy` needs them. */
  forPolicy(
    octokit: ProbotOctokit,
    target: { owner: string; repo: string; defaultBranch: string },
    policy: Policy,
  ): Promise<CodeOwnersFacts | undefined> {
    return usesCodeOwners(policy)
      ? loadCodeOwners(octokit, target, this.files, this.teams)
      : Promise.resolve(undefined);
  }
}

/** GitHub lists up to 100 members a page; a team past this many pages is read no further. */
const MAX_TEAM_PAGES = 50;

/**
 * The default branch's CODEOWNERS, where GitHub looks for it (`.github/`, the root, `docs/`; the
 * first found counts), and the members of each team of the repository's organisation it names
 * (`GET /orgs/{org}/teams/{team_slug}/members`). Files are read through `files` as the policy is
 * (revalidated after a push changes them), team pages through `teams` (revalidated when they age).
 */
export async function loadCodeOwners(
  octokit: ProbotOctokit,
  target: { owner: string; repo: string; defaultBranch: string },
  files: PolicyCache,
  teams: PolicyCache,
): Promise<CodeOwnersFacts> {
  const { owner, repo, defaultBranch } = target;
  for (const path of CODEOWNERS_PATHS) {
    let text: string | null;
    try {
      text = await readCachedFile(octokit, files, owner, repo, path, defaultBranch);
    } catch (error) {
      if ((error as { status?: number }).status !== 413) throw error;
      return { file: path, text: null, unreadable: (error as Error).message, teams: {} };
    }
    if (text === null) continue;
    const members: CodeOwnersFacts['teams'] = {};
    for (const team of teamsNamed(text, owner))
      members[teamKey(team)] = await teamMembers(octokit, teams, team.org, team.slug);
    return { file: path, text, teams: members };
  }
  return { file: null, text: null, teams: {} };
}

/** A team's members' logins, page by page through the cache; why not, when GitHub will not say. */
async function teamMembers(
  octokit: ProbotOctokit,
  cache: PolicyCache,
  org: string,
  slug: string,
): Promise<string[] | { unknown: string }> {
  const logins: string[] = [];
  for (let page = 1; page <= MAX_TEAM_PAGES; page++) {
    let text: string | null;
    try {
      text = await readCached(
        cache,
        { repository: `${org}/teams/${slug}`, ref: undefined, path: `members?page=${page}` },
        async (headers) => {
          const { data, headers: answered } = await octokit.request(
            'GET /orgs/{org}/teams/{team_slug}/members',
            {
              org,
              team_slug: slug,
              per_page: 100,
              page,
              headers,
            },
          );
          return { text: JSON.stringify(data.map((m) => m.login)), etag: answered.etag ?? null };
        },
      );
    } catch (error) {
      // 403: the App may not read the organisation's members; anything else is GitHub failing.
      if ((error as { status?: number }).status !== 403) throw error;
      return { unknown: `its members could not be read (403: the App needs the members: read permission)` };
    }
    if (text === null) return { unknown: 'no such team could be read (404)' };
    const members = JSON.parse(text) as string[];
    logins.push(...members);
    if (members.length < 100) return logins;
  }
  return { unknown: `more than ${MAX_TEAM_PAGES * 100} members: not read` };
}
