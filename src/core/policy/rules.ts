/**
 * The rules of the policy DSL, one function each: (policy, capabilities, facts, agent) → result.
 * Pure; `evaluate` runs them in the order the pipeline names them.
 */
import type { AgentRecord } from '../agent.js';
import type { StageType } from '../lifecycle.js';
import type { TierCapabilities } from '../tiers.js';
import type { ViolationType } from '../violations.js';
import type { Annotation, RuleResult } from './decision.js';
import { globMatcher } from './glob-matcher.js';
import { POLICY_FILE, type Policy, type RuleId } from './policy-schema.js';
import type { ChangedFile, PullRequestFacts } from './pull-request-facts.js';
import { scanSecrets } from './scan-secrets.js';
import { type SecretMatcher, secretMatcher } from './secret-matcher.js';
import { BUILT_IN_SECRET_MATCHERS } from './secret-patterns.js';

export interface RuleInput {
  policy: Policy;
  capabilities: TierCapabilities;
  facts: PullRequestFacts;
  agent: AgentRecord;
  /** This app's own check name, never counted as a required check. */
  ownCheckName: string;
}

type RuleFn = (input: RuleInput, stage: StageType) => RuleResult;

const SUCCESSFUL_CONCLUSIONS = new Set(['success', 'neutral', 'skipped']);
const MAX_LISTED = 5;

function result(
  rule: RuleId,
  stage: StageType,
  status: RuleResult['status'],
  summary: string,
  extra: Partial<Pick<RuleResult, 'action' | 'gate' | 'violation' | 'annotations'>> = {},
): RuleResult {
  return {
    rule,
    stage,
    status,
    summary,
    action: null,
    gate: null,
    violation: null,
    annotations: [],
    ...extra,
  };
}

/** A violation is recorded only when the rule denies: holding a PR for approval is not misconduct. */
function fired(
  rule: RuleId,
  stage: StageType,
  settings: { action: 'deny' | 'require_approval'; gate: string },
  summary: string,
  violation: ViolationType,
  annotations: Annotation[] = [],
): RuleResult {
  return result(rule, stage, 'fire', summary, {
    action: settings.action,
    gate: settings.action === 'require_approval' ? settings.gate : null,
    violation: settings.action === 'deny' ? violation : null,
    annotations,
  });
}

function list(paths: string[]): string {
  const shown = paths
    .slice(0, MAX_LISTED)
    .map((p) => `\`${p}\``)
    .join(', ');
  return paths.length > MAX_LISTED ? `${shown} and ${paths.length - MAX_LISTED} more` : shown;
}

function fileAnnotation(
  file: ChangedFile,
  level: Annotation['level'],
  title: string,
  message: string,
): Annotation {
  const line = file.addedLines?.[0]?.line ?? 1;
  return { path: file.path, startLine: line, endLine: line, level, title, message };
}

const pathsOf = (f: ChangedFile) =>
  f.previousPath && f.previousPath !== f.path ? [f.path, f.previousPath] : [f.path];

/** The built-in credential patterns and the policy's own, in the order a finding names them. */
export function secretMatchersOf(policy: Policy): SecretMatcher[] {
  return [
    ...BUILT_IN_SECRET_MATCHERS,
    ...policy.rules.secrets.patterns.map((p, i) => secretMatcher(p, `policy pattern ${i + 1}`)),
  ];
}

export const RULES: Readonly<Record<RuleId, RuleFn>> = {
  agent_status({ agent, capabilities }, stage) {
    if (agent.status !== 'active') {
      return result('agent_status', stage, 'fire', `agent is ${agent.status}: its PRs are not accepted`, {
        action: 'deny',
        violation: 'revoked_agent_activity',
      });
    }
    if (!capabilities.actions.includes('open_pr')) {
      return result('agent_status', stage, 'fire', `tier ${agent.tier} may not open pull requests`, {
        action: 'deny',
        violation: 'tier_action_forbidden',
      });
    }
    return result('agent_status', stage, 'pass', 'agent is active');
  },

  tier_paths({ policy, capabilities, facts, agent }, stage) {
    const settings = policy.rules.tier_paths;
    const allowed = settings.allowed?.[agent.tier] ?? [...capabilities.allowedPaths];
    const isAllowed = globMatcher(allowed);
    const outside = facts.files.filter((f) => pathsOf(f).some((p) => !isAllowed(p)));
    if (outside.length === 0)
      return result('tier_paths', stage, 'pass', `all paths allowed for ${agent.tier}`);
    return fired(
      'tier_paths',
      stage,
      settings,
      `${outside.length} file(s) outside what ${agent.tier} may change: ${list(outside.map((f) => f.path))}`,
      'unauthorized_path',
      outside.map((f) =>
        fileAnnotation(
          f,
          'failure',
          'Path not allowed for this tier',
          `${agent.tier} may change only: ${allowed.join(', ') || 'nothing'}`,
        ),
      ),
    );
  },

  protected_paths({ policy, facts }, stage) {
    const settings = policy.rules.protected_paths;
    const isProtected = globMatcher(settings.paths);
    const hits = facts.files.filter((f) => pathsOf(f).some((p) => isProtected(p)));
    if (hits.length === 0) return result('protected_paths', stage, 'pass', 'no protected path changed');
    return fired(
      'protected_paths',
      stage,
      settings,
      `protected path(s) changed: ${list(hits.map((f) => f.path))}`,
      'protected_path_modified',
      hits.map((f) =>
        fileAnnotation(
          f,
          'warning',
          'Protected path',
          `matches a protected path of the policy (${settings.paths.join(', ')})`,
        ),
      ),
    );
  },

  diff_size({ policy, capabilities, facts }, stage) {
    const settings = policy.rules.diff_size;
    const maxFiles = Math.min(capabilities.maxChangedFiles, settings.max_files ?? Number.POSITIVE_INFINITY);
    const maxLines = Math.min(capabilities.maxChangedLines, settings.max_lines ?? Number.POSITIVE_INFINITY);
    const files = facts.files.length + (facts.unlistedFiles ?? 0);
    const lines = facts.files.reduce((n, f) => n + f.additions + f.deletions, 0);
    const seen = `${files} files, ${lines} lines (limit ${maxFiles} files, ${maxLines} lines)`;
    if (files <= maxFiles && lines <= maxLines) return result('diff_size', stage, 'pass', seen);
    return fired('diff_size', stage, settings, `too large: ${seen}`, 'diff_size_exceeded');
  },

  secrets({ policy, facts }, stage) {
    const settings = policy.rules.secrets;
    // The adapter may have scanned already, in slices that give the event loop back; the same
    // patterns, so the same answer.
    const { findings, unscanned } = facts.secretScan ?? scanSecrets(facts.files, secretMatchersOf(policy));
    // Fail closed: what could not be read could hold a secret, so it is always said on the check.
    const unlisted = facts.unlistedFiles ?? 0;
    const notScanned = [
      ...(unscanned.length
        ? [`could not scan ${list(unscanned.map((a) => a.path))} (no full text diff): a person must look`]
        : []),
      ...(unlisted > 0
        ? [
            `could not scan ${unlisted} file(s) GitHub did not list (it lists at most 3,000): a person must look`,
          ]
        : []),
    ].join('; ');
    if (findings.length > 0) {
      const where = [...new Set(findings.map((a) => `${a.path}:${a.startLine}`))];
      return fired(
        'secrets',
        stage,
        settings,
        `secret(s) in added lines: ${list(where)}${notScanned ? `; ${notScanned}` : ''}`,
        'secret_exposure',
        [...findings, ...unscanned],
      );
    }
    if (notScanned) {
      // Not proof of misconduct: denied or held per the policy, never recorded as a violation.
      const action = settings.unscanned;
      return result('secrets', stage, 'fire', notScanned, {
        action,
        gate: action === 'require_approval' ? settings.gate : null,
        annotations: unscanned,
      });
    }
    return result('secrets', stage, 'pass', 'no secret in added lines');
  },

  dependencies({ policy, facts }, stage) {
    const settings = policy.rules.dependencies;
    const isManifest = globMatcher(settings.files);
    const hits = facts.files.filter((f) => pathsOf(f).some((p) => isManifest(p)));
    if (hits.length === 0)
      return result('dependencies', stage, 'pass', 'no dependency manifest or lock file changed');
    return fired(
      'dependencies',
      stage,
      settings,
      `dependency file(s) changed: ${list(hits.map((f) => f.path))}`,
      'dependency_change_unreviewed',
      hits.map((f) =>
        fileAnnotation(f, 'warning', 'Dependency change', 'dependency manifests and lock files need review'),
      ),
    );
  },

  governance_config({ policy, facts }, stage) {
    const settings = policy.rules.governance_config;
    const hit = facts.files.find((f) => pathsOf(f).includes(POLICY_FILE));
    if (!hit) return result('governance_config', stage, 'pass', 'governance config untouched');
    return fired(
      'governance_config',
      stage,
      settings,
      `changes \`${POLICY_FILE}\`, the config that judges it; judged by the default branch's config instead`,
      'policy_config_tampering',
      [
        fileAnnotation(
          hit,
          'failure',
          'Governance config changed',
          'an agent may not change the policy that gates it',
        ),
      ],
    );
  },

  required_checks({ policy, facts, ownCheckName }, stage) {
    const required = policy.rules.required_checks.checks.filter((c) => c !== ownCheckName);
    if (required.length === 0) return result('required_checks', stage, 'pass', 'no required checks');
    const failed: string[] = [];
    const waiting: string[] = [];
    for (const name of required) {
      const runs = facts.checks.filter((c) => c.name === name);
      if (runs.length === 0 || runs.some((c) => c.status !== 'completed')) waiting.push(name);
      else if (runs.some((c) => !SUCCESSFUL_CONCLUSIONS.has(c.conclusion ?? ''))) failed.push(name);
    }
    if (failed.length > 0) {
      return result('required_checks', stage, 'fire', `required check(s) failed: ${list(failed)}`, {
        action: 'deny',
      });
    }
    if (waiting.length > 0)
      return result('required_checks', stage, 'pending', `waiting for ${list(waiting)}`);
    return result('required_checks', stage, 'pass', `${required.length} required check(s) passed`);
  },

  human_review({ policy, capabilities, agent }, stage) {
    const settings = policy.rules.human_review;
    if (capabilities.mayPassWithoutHuman)
      return result('human_review', stage, 'pass', `${agent.tier} may pass without a human`);
    return result('human_review', stage, 'fire', `${agent.tier} needs a human approval for every PR`, {
      action: 'require_approval',
      gate: settings.gate,
    });
  },
};
