/**
 * Organisation-enforced rules. The organisation's `.github` policy may mark a rule or a gate
 * `enforced: true`; every repository of the organisation is then judged by it, whether or not its
 * own file says `extends: org`. The enforced settings are laid just beneath the repository's own
 * file, so nothing it extends (a template) undoes them, and whatever its own file changes must be
 * as strict or stricter: a looser value is a config error naming the rule, both values and both
 * files (the check fails closed). Pure.
 */
import { gateLooseness, RULE_FIELDS, show } from './policy-looseness.js';
import type { Policy, PolicyFile, RuleId } from './policy-schema.js';
import { policyProblems, resolvePolicy } from './resolve-policy.js';

export interface PolicyNames {
  /** The repository's file, e.g. `acme/web:.github/agent-governance.yml`. */
  repo: string;
  /** The organisation's, e.g. `acme/.github:.github/agent-governance.yml`. */
  org: string;
  /** What the check summary shows as the policy's source. */
  source: string;
}

export type ResolvedPolicy = { ok: true; policy: Policy } | { ok: false; problems: string[] };

interface Enforced {
  rules: RuleId[];
  gates: string[];
}

/** What the organisation's own file marks `enforced: true` (what it extends cannot enforce). */
export function enforcedIn(orgFile: PolicyFile | null): Enforced {
  const rules = Object.entries(orgFile?.rules ?? {})
    .filter(([, r]) => (r as { enforced?: boolean }).enforced === true)
    .map(([id]) => id as RuleId);
  const gates = Object.entries(orgFile?.gates ?? {})
    .filter(([, g]) => g.enforced === true)
    .map(([name]) => name);
  return { rules, gates };
}

/**
 * The policy a repository is judged by: its file (or, without one, the organisation's, or the
 * default template) with the organisation's enforced rules and gates in force, or the problems
 * that stop it from being used.
 */
export function resolveWithOrg(
  repoFile: PolicyFile | null,
  orgFile: PolicyFile | null,
  names: PolicyNames,
): ResolvedPolicy {
  const base = { org: orgFile, source: names.source, fileName: names.repo, orgName: names.org };
  const enforced = enforcedIn(orgFile);
  const anyEnforced = enforced.rules.length + enforced.gates.length > 0;
  if (!repoFile || !orgFile || !anyEnforced) return checked(resolvePolicy(repoFile, base), repoFile, names);
  const org = resolvePolicy(orgFile, { source: names.org, fileName: names.org });
  // The gates an enforced rule holds for come along only where the repository defines none of
  // that name: one it defines (or extends) is compared, never replaced (a stricter one stays).
  const own = resolvePolicy(repoFile, base);
  const missing = enforced.rules
    .map((id) => (org.rules[id] as { gate?: string }).gate)
    .filter((g): g is string => g !== undefined && g in org.gates && !(g in own.gates));
  const floor: PolicyFile = {
    rules: Object.fromEntries(enforced.rules.map((id) => [id, org.rules[id]])),
    gates: Object.fromEntries([...new Set([...enforced.gates, ...missing])].map((g) => [g, org.gates[g]!])),
  };
  const policy = resolvePolicy(repoFile, {
    ...base,
    floor: { from: `${names.org} (enforced)`, file: floor },
  });
  const problems = [...releases(repoFile, enforced, names), ...looser(org, policy, enforced, names)];
  return problems.length ? { ok: false, problems } : checked(policy, repoFile, names);
}

function checked(policy: Policy, repoFile: PolicyFile | null, names: PolicyNames): ResolvedPolicy {
  const problems = policyProblems(policy, repoFile ? names.repo : names.org);
  return problems.length ? { ok: false, problems } : { ok: true, policy };
}

/** `enforced: false` in a repository's file on what the organisation enforces: only it releases. */
function releases(repoFile: PolicyFile, enforced: Enforced, names: PolicyNames): string[] {
  const said = (x: unknown) => (x as { enforced?: boolean } | undefined)?.enforced === false;
  return [
    ...enforced.rules.filter((id) => said(repoFile.rules?.[id])).map((id) => `rules.${id}`),
    ...enforced.gates.filter((g) => said(repoFile.gates?.[g])).map((g) => `gates.${g}`),
  ].map(
    (path) =>
      `${names.repo}: ${path}.enforced: false: ${names.org} enforces ${path}; only that file can release it`,
  );
}

/** Every way the repository's resolved policy is looser than what the organisation enforces. */
function looser(org: Policy, repo: Policy, enforced: Enforced, names: PolicyNames): string[] {
  const problems: string[] = [];
  const say = (path: string, why: string) =>
    problems.push(`${names.repo}: ${path}: ${why}, looser than ${names.org} enforces`);
  const runs = (p: Policy, id: RuleId) => p.pipeline.stages.some((s) => s.rules.includes(id));
  for (const id of enforced.rules) {
    const o = org.rules[id] as Record<string, unknown>;
    const r = repo.rules[id] as Record<string, unknown>;
    if (runs(org, id) && !runs(repo, id))
      say(`rules.${id}`, 'the pipeline does not run it (leaving an enforced rule out is looser)');
    for (const [field, compare] of Object.entries(RULE_FIELDS)) {
      const why = compare(o[field], r[field]);
      if (why) say(`rules.${id}.${field}`, `${show(r[field])} instead of ${show(o[field])}: ${why}`);
    }
  }
  for (const gate of enforced.gates) {
    const why = gateLooseness(org.gates[gate]!, repo.gates[gate]!);
    if (why.length) say(`gates.${gate}`, `${why.join('; ')}`);
  }
  // A rule the organisation holds for an enforced (or the enforced rule's own) gate must be held
  // for a gate no looser: pointing it at another gate is renaming the gate away.
  for (const id of Object.keys(repo.rules) as RuleId[]) {
    const o = org.rules[id] as { enabled?: boolean; gate?: string };
    const r = repo.rules[id] as { enabled?: boolean; gate?: string };
    const guarded = enforced.rules.includes(id) || (o.gate !== undefined && enforced.gates.includes(o.gate));
    if (!guarded || o.enabled === false || r.enabled === false || !holdsForGate(id, r)) continue;
    if (o.gate === undefined || r.gate === undefined || !(o.gate in org.gates) || !(r.gate in repo.gates))
      continue;
    if (r.gate === o.gate && enforced.gates.includes(o.gate)) continue; // said under gates: already
    const why = gateLooseness(org.gates[o.gate]!, repo.gates[r.gate]!);
    const which = r.gate === o.gate ? `gate \`${r.gate}\`` : `gate \`${r.gate}\` instead of \`${o.gate}\``;
    if (why.length) say(`rules.${id}.gate`, `${which}: ${why.join('; ')}`);
  }
  return problems;
}

/** Whether the rule, as set, ever holds a PR for its gate (one that only denies never does). */
function holdsForGate(id: RuleId, settings: Record<string, unknown>): boolean {
  if (id === 'human_review') return true;
  if (id === 'secrets')
    return settings.action === 'require_approval' || settings.unscanned === 'require_approval';
  return settings.action === 'require_approval';
}
