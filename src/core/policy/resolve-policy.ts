import { createHash } from 'node:crypto';
import type { Policy, PolicyFile, RuleId, TemplateName } from './policy-schema.js';
import { TEMPLATES } from './templates.js';

/** One file of an `extends:` chain, with the name `agov policy check` shows for what it set. */
interface Layer {
  from: string;
  file: PolicyFile;
}

export interface ResolveOptions {
  org?: PolicyFile | null;
  source: string;
  /** How the repository's own file and the organisation's are named in `origins` (default: `source`). */
  fileName?: string;
  orgName?: string;
  /**
   * The organisation's enforced rules and gates, laid just beneath the repository's own file: what
   * the repository extends (a template, say) cannot undo them; only its own file can change them,
   * and `enforcedProblems` then says whether that change is looser.
   */
  floor?: Layer;
}

/**
 * Resolves `extends:` chains into one policy with every default filled in. Pure: the organisation
 * policy, when the repository's asks for it (or has none), is passed in by the caller.
 */
export function resolvePolicy(file: PolicyFile | null, options: ResolveOptions): Policy {
  const org = options.org ?? null;
  const top = file ?? org;
  const topName = file ? (options.fileName ?? options.source) : (options.orgName ?? options.source);
  const layers = collectLayers(top, topName, org, options.orgName ?? 'the organisation policy', 0);
  if (options.floor && top) layers.splice(layers.length - 1, 0, options.floor);
  const merged = layers.reduce<Record<string, unknown>>(
    (acc, layer) =>
      layer === options.floor
        ? replaceEach(acc, layer.file)
        : deepMerge(acc, layer.file as Record<string, unknown>),
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
  const rules = Object.fromEntries(
    Object.entries(m.rules).map(([id, { enforced: _e, ...settings }]) => [id, settings]),
  );
  const policy: Omit<Policy, 'version'> = {
    rules: rules as unknown as Policy['rules'],
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
    origins: originsOf(layers),
  };
  // Environments judge deployments, not PRs: editing them must not void the approvals PRs were given.
  const version = createHash('sha256')
    .update(JSON.stringify({ ...policy, source: undefined, origins: undefined, environments: undefined }))
    .digest('hex');
  return { ...policy, version };
}

/** The last layer that set anything of each rule and gate. */
function originsOf(layers: readonly Layer[]): Policy['origins'] {
  const origins: Policy['origins'] = { rules: {}, gates: {} };
  for (const { from, file } of layers) {
    for (const id of Object.keys(file.rules ?? {})) origins.rules[id as RuleId] = from;
    for (const name of Object.keys(file.gates ?? {})) origins.gates[name] = from;
  }
  return origins;
}

function collectLayers(
  file: PolicyFile | null,
  from: string,
  org: PolicyFile | null,
  orgName: string,
  depth: number,
): Layer[] {
  if (depth > 5) throw new Error('policy extends chain is deeper than 5');
  const template = (name: TemplateName) =>
    collectLayers(TEMPLATES[name], `built-in template ${name}`, org, orgName, depth + 1);
  if (!file) return template('default');
  const { extends: parent, ...own } = file;
  const layer = { from, file: own };
  if (!parent) return file === TEMPLATES.default ? [layer] : [...template('default'), layer];
  if (parent === 'org') {
    const base =
      org && org !== file
        ? collectLayers(org, orgName, null, orgName, depth + 1)
        : collectLayers(TEMPLATES.default, 'built-in template default', null, orgName, depth + 1);
    return [...base, layer];
  }
  return [...template(parent), layer];
}

/** Each rule and gate the floor sets replaces what came before it whole (a template's extra keys too). */
function replaceEach(base: Record<string, unknown>, floor: PolicyFile): Record<string, unknown> {
  const section = (name: 'rules' | 'gates') => ({
    ...(base[name] as Record<string, unknown> | undefined),
    ...structuredClone(floor[name] ?? {}),
  });
  return { ...base, rules: section('rules'), gates: section('gates') };
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
