import { createHash } from 'node:crypto';
import type { Policy, PolicyFile } from './policy-schema.js';
import { TEMPLATES } from './templates.js';

/**
 * Resolves `extends:` chains into one policy with every default filled in. Pure: the organisation
 * policy, when the repository's asks for it (or has none), is passed in by the caller.
 */
export function resolvePolicy(
  file: PolicyFile | null,
  options: { org?: PolicyFile | null; source: string },
): Policy {
  const layers = collectLayers(file ?? options.org ?? null, options.org ?? null, 0);
  const merged = layers.reduce<Record<string, unknown>>(
    (acc, layer) => deepMerge(acc, layer as Record<string, unknown>),
    {},
  );
  const m = merged as Required<PolicyFile> & { rules: Required<NonNullable<PolicyFile['rules']>> };
  const gates = Object.fromEntries(
    Object.entries(m.gates ?? {}).map(([name, g]) => [
      name,
      {
        approvals: g.approvals ?? 1,
        approvers: g.approvers ?? [],
        council: g.council ?? false,
        allow_owner: g.allow_owner ?? true,
        expiry_hours: g.expiry_hours ?? 72,
        on_expiry: g.on_expiry ?? 'reject',
        survive_push: g.survive_push ?? false,
        github_reviews: g.github_reviews ?? true,
      },
    ]),
  );
  const policy: Omit<Policy, 'version'> = {
    rules: m.rules as unknown as Policy['rules'],
    gates,
    pipeline: m.pipeline as Policy['pipeline'],
    unknownAuthors: m.unknown_authors ?? 'neutral',
    scanAllPrs: m.scan_all_prs ?? true,
    environments: Object.fromEntries(
      Object.entries(m.environments ?? {}).map(([name, e]) => [
        name.toLowerCase(),
        { name, minTier: e.min_tier ?? null, gate: e.gate ?? null, people: e.people ?? 'approve' },
      ]),
    ),
    source: options.source,
  };
  // Environments judge deployments, not PRs: editing them must not void the approvals PRs were given.
  const version = createHash('sha256')
    .update(JSON.stringify({ ...policy, source: undefined, environments: undefined }))
    .digest('hex');
  return { ...policy, version };
}

function collectLayers(file: PolicyFile | null, org: PolicyFile | null, depth: number): PolicyFile[] {
  if (depth > 5) throw new Error('policy extends chain is deeper than 5');
  if (!file) return collectLayers(TEMPLATES.default, org, depth + 1);
  const { extends: parent, ...own } = file;
  if (!parent)
    return file === TEMPLATES.default ? [own] : [...collectLayers(TEMPLATES.default, org, depth + 1), own];
  if (parent === 'org') {
    const base =
      org && org !== file
        ? collectLayers(org, null, depth + 1)
        : collectLayers(TEMPLATES.default, null, depth + 1);
    return [...base, own];
  }
  return [...collectLayers(TEMPLATES[parent], org, depth + 1), own];
}

/** Objects merge key by key; arrays and scalars from the later layer replace the earlier. */
function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    if (value === undefined) continue;
    const prev = out[key];
    out[key] =
      isPlainObject(prev) && isPlainObject(value) ? deepMerge(prev, value) : structuredClone(value as object);
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * What resolves but cannot be meant: a rule that holds PRs for a gate the policy never defines
 * (a typo such as `protcted` would otherwise fall back to another gate silently).
 */
export function policyProblems(policy: Policy, file: string): string[] {
  const problems: string[] = [];
  for (const [id, settings] of Object.entries(policy.rules) as [
    string,
    { enabled?: boolean; gate?: string },
  ][]) {
    if (settings.enabled === false || settings.gate === undefined) continue;
    if (!(settings.gate in policy.gates))
      problems.push(
        `${file}: rules.${id}.gate: no gate "${settings.gate}" is defined under gates: (defined: ${Object.keys(policy.gates).join(', ')})`,
      );
  }
  return problems;
}
