/**
 * What "looser" means, field by field, for a rule or gate the organisation enforces. Each
 * comparison gets the organisation's resolved value and the repository's and answers why the
 * repository's lets more through, or null when it is as strict or stricter. Pure.
 *
 * - a switch (`enabled`): off is looser than on;
 * - an action (`action`, `unscanned`): `require_approval` is looser than `deny`;
 * - a limit (`max_files`, `max_lines`): larger, or none, is looser;
 * - a list of what is guarded (`paths`, `files`, `patterns`, `checks`): leaving an entry out is looser;
 * - a list of what is allowed (`tier_paths.allowed`): any path outside the organisation's is looser;
 * - a gate: fewer approvals, more or other approvers, no council, the owner allowed, a later
 *   deadline, escalating instead of rejecting at it, approvals that survive a push, or GitHub
 *   reviews counting where they did not.
 */
import type { GateSettings } from './policy-schema.js';

export type Looseness = string | null;

const show = (v: unknown): string => (v === undefined ? 'none' : JSON.stringify(v));

const ACTION_RANK = { deny: 1, require_approval: 0 } as const;

/** Rule fields other than the gate, by name; a field not listed is compared by nothing. */
export const RULE_FIELDS: Record<string, (org: unknown, repo: unknown) => Looseness> = {
  enabled: (o, r) => (o !== false && r === false ? 'turning the rule off is looser' : null),
  action: action,
  unscanned: action,
  max_files: limit,
  max_lines: limit,
  paths: guarded('a protected path'),
  files: guarded('a dependency file'),
  patterns: guarded('a secret pattern'),
  checks: guarded('a required check'),
  allowed: allowedPaths,
};

function action(o: unknown, r: unknown): Looseness {
  const org = ACTION_RANK[o as keyof typeof ACTION_RANK] ?? 0;
  const repo = ACTION_RANK[r as keyof typeof ACTION_RANK] ?? 0;
  return repo < org ? 'holding for approval is looser than denying' : null;
}

function limit(o: unknown, r: unknown): Looseness {
  if (typeof o !== 'number') return null;
  return typeof r !== 'number' || r > o ? 'a larger limit (or none) is looser' : null;
}

function guarded(what: string) {
  return (o: unknown, r: unknown): Looseness => {
    const repo = new Set((r as string[] | undefined) ?? []);
    const left = ((o as string[] | undefined) ?? []).filter((x) => !repo.has(x));
    return left.length ? `leaving out ${what} is looser (missing ${show(left)})` : null;
  };
}

/** Per tier, every glob the repository allows must lie within one the organisation allows. */
function allowedPaths(o: unknown, r: unknown): Looseness {
  const org = (o ?? {}) as Record<string, string[] | undefined>;
  const repo = (r ?? {}) as Record<string, string[] | undefined>;
  const why: string[] = [];
  for (const [tier, globs] of Object.entries(repo)) {
    const outer = org[tier];
    if (!globs) continue;
    if (!outer) {
      why.push(
        `${tier} is left to its tier capabilities by the organisation; a repository may not list paths for it`,
      );
      continue;
    }
    const outside = globs.filter((g) => !outer.some((big) => globWithin(g, big)));
    if (outside.length) why.push(`${tier} may change ${show(outside)}, outside ${show(outer)}`);
  }
  return why.length ? `allowing more paths is looser: ${why.join('; ')}` : null;
}

/**
 * Whether every path `inner` matches is matched by `outer`, decided only where it is certain: the
 * same glob, `**`, or `P/**` (P a plain directory) around a glob that starts with `P/`. Anything
 * else counts as outside: a false "looser" is a clear error to fix, a false "within" a hole.
 */
export function globWithin(inner: string, outer: string): boolean {
  if (inner === outer || outer === '**') return true;
  const dir = /^(.+)\/\*\*$/.exec(outer)?.[1];
  return dir !== undefined && !/[*?[\]{}()!+@\\]/.test(dir) && inner.startsWith(`${dir}/`);
}

/** Every way the repository's gate lets more through than the organisation's. */
export function gateLooseness(org: GateSettings, repo: GateSettings): string[] {
  const why: string[] = [];
  if (repo.approvals < org.approvals) why.push(`approvals ${repo.approvals} < ${org.approvals}`);
  const approvers = approversLooseness(org.approvers, repo.approvers);
  if (approvers) why.push(approvers);
  if (org.council !== repo.council)
    why.push(org.council ? 'no council (the council decides there)' : 'a council instead of its approvers');
  if (!org.allow_owner && repo.allow_owner) why.push("the agent's owner may approve");
  if (repo.expiry_hours > org.expiry_hours)
    why.push(`expiry_hours ${repo.expiry_hours} > ${org.expiry_hours} (a later deadline)`);
  if (org.on_expiry === 'reject' && repo.on_expiry === 'escalate')
    why.push('on_expiry escalate instead of reject');
  if (!org.survive_push && repo.survive_push) why.push('approvals survive a push');
  if (!org.github_reviews && repo.github_reviews) why.push('GitHub reviews count');
  return why;
}

function approversLooseness(org: GateSettings['approvers'], repo: GateSettings['approvers']): Looseness {
  if (org === 'codeowners')
    return repo === 'codeowners' ? null : `approvers ${show(repo)} instead of the code owners`;
  if (org.length === 0) return null; // every approver of the organisation config: nobody adds to that
  if (repo === 'codeowners') return `approvers: codeowners instead of ${show(org)}`;
  if (repo.length === 0) return `every approver of the organisation config instead of ${show(org)}`;
  const named = new Set(org.map((l) => l.toLowerCase()));
  const added = repo.filter((l) => !named.has(l.toLowerCase()));
  return added.length ? `approvers ${show(added)} who are not among ${show(org)}` : null;
}

export { show };
