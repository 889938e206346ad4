import type { ProbotOctokit } from 'probot';
import { formatProblem } from '../core/parse-yaml.js';
import { resolveWithOrg } from '../core/policy/enforce-policy.js';
import { parsePolicyFile } from '../core/policy/load-policy.js';
import { POLICY_FILE, type Policy, type PolicyFile } from '../core/policy/policy-schema.js';
import type { PolicyCache } from './policy-cache.js';
import { readCachedFile } from './read-cached.js';

export type LoadedPolicy = { ok: true; policy: Policy } | { ok: false; problems: string[] };

/**
 * The policy that judges a PR: the repository's file on its default branch (never the PR head,
 * so an agent cannot relax its own gate), else the organisation's `.github` repository, else the
 * built-in `default` template; with what the organisation's file enforces in force either way.
 * Files already read come from `cache` without a call.
 */
export async function loadPolicy(
  octokit: ProbotOctokit,
  owner: string,
  repo: string,
  defaultBranch: string,
  cache: PolicyCache,
): Promise<LoadedPolicy> {
  await cache.caughtUp();
  const read = (name: string, ref: string | undefined) =>
    readCachedFile(octokit, cache, owner, name, POLICY_FILE, ref, '');
  const repoText = await read(repo, defaultBranch);
  const problems: string[] = [];
  const parse = (text: string | null, file: string): PolicyFile | null => {
    if (text === null) return null;
    const result = once(`parse\0${file}\0${text}`, () => parsePolicyFile(text, file));
    if (result.ok) return result.value;
    problems.push(...result.problems.map(formatProblem));
    return null;
  };
  const repoFile = parse(repoText, `${owner}/${repo}:${POLICY_FILE}`);
  if (problems.length) return { ok: false, problems };
  // Decided from the parsed file, never from its text: `extends: "org"  # comment` is `org` too.
  const extendsOrg = repoFile?.extends === 'org';
  // Read even when the repository's file does not extend it: what it enforces applies everywhere.
  const orgText = repo !== '.github' ? await read('.github', undefined) : null;
  const orgFile = parse(orgText, `${owner}/.github:${POLICY_FILE}`);
  if (extendsOrg && orgFile === null && problems.length === 0)
    problems.push(
      `${owner}/${repo}:${POLICY_FILE}: extends: org, but ${owner}/.github has no ${POLICY_FILE} to extend`,
    );
  // Fail closed: an organisation file that cannot be read could be hiding what it enforces.
  if (problems.length) return { ok: false, problems };
  const source = repoFile
    ? `${owner}/${repo}:${POLICY_FILE}@${defaultBranch}${repoFile.extends ? ` extends ${repoFile.extends}` : ''}`
    : orgFile
      ? `${owner}/.github:${POLICY_FILE}`
      : 'built-in default template (no policy file)';
  return once(`resolve\0${owner}/${repo}\0${source}\0${repoText}\0${orgText}`, () =>
    resolveWithOrg(repoFile, orgFile, {
      repo: `${owner}/${repo}:${POLICY_FILE}`,
      org: `${owner}/.github:${POLICY_FILE}`,
      source,
    }),
  );
}

/**
 * Parsed files and resolved policies by the texts they came from: every event of a repository
 * reads the same files, and parsing and resolving them again would give the same answer.
 */
const known = new Map<string, unknown>();
const MAX_KNOWN = 400;

function once<T>(key: string, compute: () => T): T {
  if (known.has(key)) return known.get(key) as T;
  const value = compute();
  if (known.size >= MAX_KNOWN) known.delete(known.keys().next().value!);
  known.set(key, value);
  return value;
}
