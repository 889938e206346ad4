import { readFileSync } from 'node:fs';
import { formatProblem } from '../../core/parse-yaml.js';
import { parsePolicyFile } from '../../core/policy/load-policy.js';
import type { Policy } from '../../core/policy/policy-schema.js';
import { policyProblems, resolvePolicy } from '../../core/policy/resolve-policy.js';
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

/** Parses and resolves a policy file; prints its problems and returns null when it is invalid. */
export function loadPolicyFile(path: string | undefined): Policy | null {
  if (!path) return resolvePolicy(null, { source: 'built-in default template' });
  const result = parsePolicyFile(readText(path, 'the policy file'), path);
  if (!result.ok) {
    for (const p of result.problems) console.log(formatProblem(p));
    return null;
  }
  const policy = resolvePolicy(result.value, { source: path });
  const problems = policyProblems(policy, path);
  for (const p of problems) console.log(p);
  return problems.length ? null : policy;
}
