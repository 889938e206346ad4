/**
 * The policy DSL: `.github/agent-governance.yml`, read from the default branch. A policy is a
 * pipeline of stages, each running named rules, and gates that say who must approve what a rule
 * holds back. `extends:` starts from a built-in template or the organisation's `.github` config.
 */
import { z } from 'zod';
import { STAGE_TYPES } from '../lifecycle.js';
import { TIER_IDS } from '../tiers.js';
import { compileSecretPattern } from './secret-matcher.js';

export const POLICY_FILE = '.github/agent-governance.yml';

export const TEMPLATE_NAMES = ['default', 'strict', 'docs-only', 'infra-protected'] as const;
export type TemplateName = (typeof TEMPLATE_NAMES)[number];

/** The rules a pipeline may run. Each is implemented once, in `rules.ts`. */
export const RULE_IDS = [
  'agent_status',
  'tier_paths',
  'protected_paths',
  'diff_size',
  'secrets',
  'dependencies',
  'governance_config',
  'required_checks',
  'human_review',
] as const;
export type RuleId = (typeof RULE_IDS)[number];

/** What a rule does when it fires: stop the PR, or hold it for the named gate. */
const action = z.enum(['deny', 'require_approval']);
const globs = z.array(z.string().min(1));
/**
 * Honoured only in the organisation's `.github` policy: a repository's own file may make the rule
 * or gate stricter, never looser (see `enforce-policy.ts`).
 */
const enforced = z.boolean();
const gateName = z.string().regex(/^[a-z][a-z0-9_-]*$/, 'a gate name is lowercase letters, digits, - and _');

const ruleSchemas = {
  agent_status: z.object({ enabled: z.boolean(), enforced }).partial().strict(),
  tier_paths: z
    .object({
      enabled: z.boolean(),
      enforced,
      action,
      gate: gateName,
      /** Per-tier allowed globs; a tier not listed keeps its built-in (or org) capability. */
      allowed: z.object(Object.fromEntries(TIER_IDS.map((t) => [t, globs.optional()]))).strict(),
    })
    .partial()
    .strict(),
  protected_paths: z
    .object({ enabled: z.boolean(), enforced, action, gate: gateName, paths: globs })
    .partial()
    .strict(),
  diff_size: z
    .object({
      enabled: z.boolean(),
      enforced,
      action,
      gate: gateName,
      max_files: z.number().int().positive(),
      max_lines: z.number().int().positive(),
    })
    .partial()
    .strict(),
  secrets: z
    .object({
      enabled: z.boolean(),
      enforced,
      action,
      gate: gateName,
      /** Extra patterns (RE2 syntax, run in linear time), matched against added lines. */
      patterns: z.array(
        z.string().superRefine((pattern, ctx) => {
          const compiled = compileSecretPattern(pattern, 'policy pattern');
          if (!compiled.ok)
            ctx.addIssue({
              code: 'custom',
              message: `not a pattern the linear-time engine (RE2) accepts: ${compiled.reason}`,
            });
        }),
      ),
      /** What a file the scan cannot read (binary, too large, renamed without a diff) gets. */
      unscanned: action,
    })
    .partial()
    .strict(),
  dependencies: z
    .object({ enabled: z.boolean(), enforced, action, gate: gateName, files: globs })
    .partial()
    .strict(),
  governance_config: z.object({ enabled: z.boolean(), enforced, action, gate: gateName }).partial().strict(),
  required_checks: z
    .object({ enabled: z.boolean(), enforced, checks: z.array(z.string().min(1)) })
    .partial()
    .strict(),
  human_review: z.object({ enabled: z.boolean(), enforced, gate: gateName }).partial().strict(),
} satisfies Record<RuleId, z.ZodType>;

export const gateSchema = z
  .object({
    enforced,
    /** How many approvals it takes. */
    approvals: z.number().int().positive(),
    /**
     * GitHub logins allowed to approve (empty: every approver of the organisation config), or
     * `codeowners`: for each changed path, one of its owners in the default branch's CODEOWNERS.
     */
    approvers: z.union([z.array(z.string()), z.literal('codeowners')]),
    /** The council of the organisation config decides, with its quorum and veto. */
    council: z.boolean(),
    /** May the agent's owner approve its PR? */
    allow_owner: z.boolean(),
    /** At most a year: a deadline beyond that is no deadline. */
    expiry_hours: z.number().positive().max(8760),
    on_expiry: z.enum(['reject', 'escalate']),
    /** Keep approvals across new pushes (by default a new head, diff or policy needs new ones). */
    survive_push: z.boolean(),
    /** Count approving GitHub PR reviews by eligible approvers (off: only Slack and the CLI count). */
    github_reviews: z.boolean(),
  })
  .partial()
  .strict()
  .refine((g) => !(g.council && g.approvers === 'codeowners'), {
    message: 'a gate is decided by the council or by code owners, not both',
  });

/**
 * A deployment environment's rule, read when this app is the environment's custom deployment
 * protection rule: the lowest tier an agent needs to deploy there, the gate its deployment waits
 * on, and what a deployment no agent is behind (a person's) gets.
 */
export const environmentSchema = z
  .object({
    min_tier: z.enum(TIER_IDS),
    gate: gateName,
    people: z.enum(['approve', 'reject']),
  })
  .partial()
  .strict();

const stageSchema = z.object({ type: z.enum(STAGE_TYPES), rules: z.array(z.enum(RULE_IDS)).min(1) }).strict();

export const policyFileSchema = z
  .object({
    version: z.literal(1).optional(),
    extends: z.union([z.enum(TEMPLATE_NAMES), z.literal('org')]).optional(),
    rules: z.object(ruleSchemas).partial().strict().optional(),
    gates: z.record(gateName, gateSchema).optional(),
    pipeline: z
      .object({ stages: z.array(stageSchema).min(1) })
      .strict()
      .optional(),
    /** What a PR from no known agent gets: a quick neutral check, or none at all. */
    unknown_authors: z.enum(['neutral', 'skip']).optional(),
    /** Run the secret scan on every PR the App sees, a person's too (a secret found fails the check). */
    scan_all_prs: z.boolean().optional(),
    /** Deployment environments by name (GitHub compares them case-insensitively, as this app does). */
    environments: z.record(z.string().min(1), environmentSchema).optional(),
  })
  .strict();
export type PolicyFile = z.infer<typeof policyFileSchema>;

export type RuleSettings = { [K in RuleId]: z.infer<(typeof ruleSchemas)[K]> };
export type GateSettings = Required<Omit<z.infer<typeof gateSchema>, 'approvers' | 'enforced'>> & {
  approvers: string[] | 'codeowners';
};

export interface EnvironmentPolicy {
  /** The name as the policy file spells it. */
  name: string;
  /** Null: no agent may deploy here (a section without `min_tier` names no tier that suffices). */
  minTier: (typeof TIER_IDS)[number] | null;
  gate: string | null;
  people: 'approve' | 'reject';
}

/** A policy with every default filled in, ready to evaluate. */
export interface Policy {
  rules: {
    agent_status: { enabled: boolean };
    tier_paths: {
      enabled: boolean;
      action: 'deny' | 'require_approval';
      gate: string;
      allowed: Partial<Record<(typeof TIER_IDS)[number], string[]>>;
    };
    protected_paths: { enabled: boolean; action: 'deny' | 'require_approval'; gate: string; paths: string[] };
    diff_size: {
      enabled: boolean;
      action: 'deny' | 'require_approval';
      gate: string;
      max_files?: number;
      max_lines?: number;
    };
    secrets: {
      enabled: boolean;
      action: 'deny' | 'require_approval';
      gate: string;
      patterns: string[];
      unscanned: 'deny' | 'require_approval';
    };
    dependencies: { enabled: boolean; action: 'deny' | 'require_approval'; gate: string; files: string[] };
    governance_config: { enabled: boolean; action: 'deny' | 'require_approval'; gate: string };
    required_checks: { enabled: boolean; checks: string[] };
    human_review: { enabled: boolean; gate: string };
  };
  gates: Record<string, GateSettings>;
  pipeline: { stages: { type: (typeof STAGE_TYPES)[number]; rules: RuleId[] }[] };
  unknownAuthors: 'neutral' | 'skip';
  /** The secret scan runs on PRs from no known agent too. */
  scanAllPrs: boolean;
  /** Deployment environments by lower-case name, every default filled in. */
  environments: Record<string, EnvironmentPolicy>;
  /** Where it came from, for the check summary: e.g. `acme/web:.github/agent-governance.yml extends strict`. */
  source: string;
  /**
   * The file (or built-in template) each rule and gate took its settings from, last layer first:
   * `acme/.github:.github/agent-governance.yml (enforced)`, `built-in template strict`, ….
   */
  origins: { rules: Partial<Record<RuleId, string>>; gates: Record<string, string> };
  /** sha256 of the resolved policy: approvals given under another version no longer count. */
  version: string;
}
