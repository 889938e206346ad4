/**
 * Built-in policy templates. `default` applies when a repository and its organisation have no
 * policy file: it never allows everything by accident.
 */
import type { PolicyFile, TemplateName } from './policy-schema.js';

const DEPENDENCY_FILES = [
  '**/package.json',
  '**/package-lock.json',
  '**/yarn.lock',
  '**/pnpm-lock.yaml',
  '**/go.mod',
  '**/go.sum',
  '**/Cargo.toml',
  '**/Cargo.lock',
  '**/requirements*.txt',
  '**/poetry.lock',
  '**/Pipfile.lock',
  '**/Gemfile.lock',
  '**/pom.xml',
  '**/build.gradle*',
];

const BASE: PolicyFile = {
  rules: {
    agent_status: { enabled: true },
    tier_paths: { enabled: true, action: 'deny', gate: 'default' },
    protected_paths: {
      enabled: true,
      action: 'require_approval',
      gate: 'protected',
      paths: ['.github/workflows/**', '**/CODEOWNERS', '.github/CODEOWNERS'],
    },
    diff_size: { enabled: true, action: 'require_approval', gate: 'default' },
    secrets: {
      enabled: true,
      action: 'deny',
      gate: 'default',
      patterns: [],
      unscanned: 'require_approval',
    },
    dependencies: { enabled: true, action: 'require_approval', gate: 'default', files: DEPENDENCY_FILES },
    governance_config: { enabled: true, action: 'deny', gate: 'protected' },
    required_checks: { enabled: true, checks: [] },
    human_review: { enabled: true, gate: 'default' },
  },
  gates: {
    default: {
      approvals: 1,
      approvers: [],
      council: false,
      allow_owner: true,
      expiry_hours: 72,
      on_expiry: 'reject',
      survive_push: false,
    },
    protected: {
      approvals: 2,
      approvers: [],
      council: false,
      allow_owner: false,
      expiry_hours: 72,
      on_expiry: 'escalate',
      survive_push: false,
    },
  },
  pipeline: {
    stages: [
      { type: 'plan', rules: ['agent_status'] },
      { type: 'execute', rules: ['tier_paths', 'governance_config', 'secrets'] },
      { type: 'verify', rules: ['required_checks'] },
      { type: 'gate', rules: ['protected_paths', 'dependencies', 'diff_size', 'human_review'] },
    ],
  },
  unknown_authors: 'neutral',
};

export const TEMPLATES: Readonly<Record<TemplateName, PolicyFile>> = {
  default: BASE,
  strict: {
    extends: 'default',
    rules: {
      tier_paths: { action: 'deny' },
      diff_size: { action: 'deny' },
      dependencies: { action: 'require_approval', gate: 'protected' },
      protected_paths: {
        paths: ['.github/**', '**/CODEOWNERS', 'infra/**', '**/*.tf', 'deploy/**', '**/Dockerfile'],
      },
    },
    gates: { default: { approvals: 2, allow_owner: false } },
  },
  'docs-only': {
    extends: 'default',
    rules: {
      tier_paths: {
        action: 'deny',
        allowed: {
          T0: [],
          T1: ['docs/**', '**/*.md'],
          T2: ['docs/**', '**/*.md', '**/*.mdx', '**/*.rst'],
          T3: ['docs/**', '**/*.md', '**/*.mdx', '**/*.rst'],
          T4: ['docs/**', '**/*.md', '**/*.mdx', '**/*.rst'],
        },
      },
    },
  },
  'infra-protected': {
    extends: 'default',
    rules: {
      protected_paths: {
        paths: [
          '.github/**',
          '**/CODEOWNERS',
          'infra/**',
          'terraform/**',
          '**/*.tf',
          '**/*.tfvars',
          'k8s/**',
          'helm/**',
          'deploy/**',
          '**/Dockerfile',
          '**/docker-compose*.yml',
        ],
      },
    },
    gates: { protected: { council: true, approvals: 1 } },
  },
};
