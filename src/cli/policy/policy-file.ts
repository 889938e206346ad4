import { readFileSync } from 'node:fs';
import { formatProblem } from '../../core/parse-yaml.js';
import { resolveWithOrg } from '../../core/policy/enforce-policy.js';
import { parsePolicyFile } from '../../core/policy/load-policy.js';
import type { Policy, PolicyFile } from '../../core/policy/policy-schema.js';
import { resolvePolicy } from '../../core/policy/resolve-policy.js';
import { UserError } from '../../platform/errors.js';

export function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new UserError(
      'file_unreadable',
      `cannot read ${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
}

function parseFile(path: string, what: string): PolicyFile | null {
  const result = parsePolicyFile(readText(path, what), path);
  if (result.ok) return result.value;
  for (const p of result.problems) console.log(formatProblem(p));
  return null;
}

/**
 * Parses and resolves a policy file, with what the organisation's file (`--org`, its `.github`
 * repository's) enforces in force as on GitHub; prints the problems and returns null when either
 * file cannot be used.
 */
export function loadPolicyFile(path: string | undefined, orgPath?: string): Policy | null {
  if (!path && !orgPath) return resolvePolicy(null, { source: 'built-in default template' });
  const repo = path ? parseFile(path, 'the policy file') : null;
  const org = orgPath ? parseFile(orgPath, 'the organisation policy file') : null;
  if ((path && !repo) || (orgPath && !org)) return null;
  const resolved = resolveWithOrg(repo, org, {
    repo: path ?? '(none)',
    org: orgPath ?? '(none)',
    source: path ?? orgPath!,
  });
  if (!resolved.ok) for (const p of resolved.problems) console.log(p);
  return resolved.ok ? resolved.policy : null;
}
