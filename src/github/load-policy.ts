import type { ProbotOctokit } from 'probot';
import { formatProblem } from '../core/parse-yaml.js';
import { parsePolicyFile } from '../core/policy/load-policy.js';
import { POLICY_FILE, type Policy, type PolicyFile } from '../core/policy/policy-schema.js';
import { policyProblems, resolvePolicy } from '../core/policy/resolve-policy.js';

export type LoadedPolicy = { ok: true; policy: Policy } | { ok: false; problems: string[] };

/**
 * The policy that judges a PR: the repository's file on its default branch (never the PR head,
 * so an agent cannot relax its own gate), else the organisation's `.github` repository, else the
 * built-in `default` template.
 */
export async function loadPolicy(
  octokit: ProbotOctokit,
  owner: string,
  repo: string,
  defaultBranch: string,
): Promise<LoadedPolicy> {
  const repoText = await readFile(octokit, owner, repo, defaultBranch);
  const problems: string[] = [];
  const parse = (text: string | null, file: string): PolicyFile | null => {
    if (text === null) return null;
    const result = parsePolicyFile(text, file);
    if (result.ok) return result.value;
    problems.push(...result.problems.map(formatProblem));
    return null;
  };
  const repoFile = parse(repoText, `${owner}/${repo}:${POLICY_FILE}`);
  if (problems.length) return { ok: false, problems };
  // Decided from the parsed file, never from its text: `extends: "org"  # comment` is `org` too.
  const extendsOrg = repoFile?.extends === 'org';
  const orgText =
    (repoText === null || extendsOrg) && repo !== '.github'
      ? await readFile(octokit, owner, '.github', undefined)
      : null;
  const orgFile = parse(orgText, `${owner}/.github:${POLICY_FILE}`);
  if (extendsOrg && orgFile === null && problems.length === 0)
    problems.push(
      `${owner}/${repo}:${POLICY_FILE}: extends: org, but ${owner}/.github has no ${POLICY_FILE} to extend`,
    );
  if (problems.length) return { ok: false, problems };
  const source = repoFile
    ? `${owner}/${repo}:${POLICY_FILE}@${defaultBranch}${repoFile.extends ? ` extends ${repoFile.extends}` : ''}`
    : orgFile
      ? `${owner}/.github:${POLICY_FILE}`
      : 'built-in default template (no policy file)';
  const policy = resolvePolicy(repoFile, { org: orgFile, source });
  const undefinedGates = policyProblems(
    policy,
    repoFile ? `${owner}/${repo}:${POLICY_FILE}` : `${owner}/.github:${POLICY_FILE}`,
  );
  if (undefinedGates.length) return { ok: false, problems: undefinedGates };
  return { ok: true, policy };
}

async function readFile(
  octokit: ProbotOctokit,
  owner: string,
  repo: string,
  ref: string | undefined,
): Promise<string | null> {
  try {
    const { data } = await octokit.rest.repos.getContent({
      owner,
      repo,
      path: POLICY_FILE,
      ...(ref ? { ref } : {}),
    });
    if (Array.isArray(data) || data.type !== 'file' || !('content' in data)) return null;
    return Buffer.from(data.content, 'base64').toString('utf8');
  } catch (error) {
    if ((error as { status?: number }).status === 404) return null;
    throw error;
  }
}
