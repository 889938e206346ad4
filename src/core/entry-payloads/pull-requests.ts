/**
 * Pull requests and what gates them: decisions, approval requests and verdicts, the council, the
 * merge queue, deployments, merges and how they turned out.
 */
import { z } from 'zod';
import { TIER_IDS } from '../tiers.js';

/** A gate as the one tally needs it, resolved from the policy and the organisation config. */
const gateRuleSchema = z.object({
  gate: z.string(),
  approvals: z.number().int(),
  council: z.boolean(),
  eligible: z.array(z.string()),
  allowOwner: z.boolean(),
  expiryHours: z.number(),
  onExpiry: z.enum(['reject', 'escalate']).default('reject'),
  // Recorded since the one approval tally; entries written before have their defaults.
  veto: z.boolean().default(false),
  distinctTeams: z.boolean().default(false),
  unmapped: z.array(z.string()).default([]),
  survivePush: z.boolean().default(false),
  githubReviews: z.boolean().default(true),
  /** An `approvers: codeowners` gate: the changed paths by owners, as the tally needs them. */
  codeOwners: z
    .array(
      z.object({
        paths: z.array(z.string()),
        owners: z.array(z.string()),
        unmapped: z.array(z.string()),
        why: z.string().nullable(),
      }),
    )
    .optional(),
});

export const pullRequestPayloadSchemas = {
  'decision.recorded': z.object({
    repository: z.string(),
    number: z.number().int(),
    headSha: z.string(),
    outcome: z.enum(['allow', 'require_approval', 'deny', 'pending', 'not_agent', 'config_error']),
    summary: z.string(),
    tier: z.enum(TIER_IDS).nullable(),
    policyVersion: z.string().nullable(),
    diffHash: z.string().nullable(),
    /** A digest of what the verdict depended on (`evaluationInputsKey`): equal inputs, same answer. */
    inputs: z.string().optional(),
    trigger: z.string(),
    /** GitHub's `updated_at` of the PR as decided: a later event showing an older one is stale. */
    pullRequestUpdatedAt: z.string().optional(),
    /** Each rule that fired or waits: id, status, one-line reason. */
    rules: z.array(z.object({ rule: z.string(), status: z.string(), summary: z.string() })),
    /** The GitHub App installation, so later calls (a revocation failing the check) can reach the PR. */
    installationId: z.number().int().optional(),
    title: z.string().optional(),
    url: z.string().optional(),
    /** The approvals each waiting gate needs, for the people asked (Slack). */
    gates: z.array(gateRuleSchema).optional(),
    /** How the PR was tied to its agent: only `authenticated` counts for or against the agent. */
    attribution: z
      .object({
        strength: z.enum(['authenticated', 'claimed']),
        via: z.string(),
        author: z.string(),
      })
      .optional(),
    /** What was judged, without file contents: enough to replay a candidate policy (backtest). */
    author: z.string().optional(),
    files: z
      .array(
        z.object({
          path: z.string(),
          previousPath: z.string().nullable(),
          status: z.string(),
          additions: z.number().int(),
          deletions: z.number().int(),
        }),
      )
      .optional(),
  }),
  /** The merge-queue check on a merge group: every PR found in it, and the verdict on each. */
  'merge_group.checked': z.object({
    repository: z.string(),
    headSha: z.string(),
    baseSha: z.string().nullable(),
    headRef: z.string(),
    conclusion: z.enum(['success', 'failure']),
    summary: z.string(),
    pullRequests: z.array(
      z.object({
        number: z.number().int(),
        headSha: z.string(),
        agentId: z.string().nullable(),
        passed: z.boolean(),
        reason: z.string(),
      }),
    ),
  }),
  /** This app's answer as a deployment protection rule: what it saw, and approved, rejected or waiting. */
  'deployment.decided': z.object({
    repository: z.string(),
    environment: z.string(),
    runId: z.number().int(),
    deploymentId: z.number().int().nullable(),
    sha: z.string().nullable(),
    ref: z.string().nullable(),
    /** Who GitHub says created the deployment, and who set off the run. */
    creator: z.string().nullable(),
    sender: z.string().nullable(),
    attribution: z
      .object({ strength: z.enum(['authenticated', 'claimed']), via: z.string(), author: z.string() })
      .nullable(),
    tier: z.enum(TIER_IDS).nullable(),
    state: z.enum(['approved', 'rejected', 'waiting']),
    gate: z.string().nullable(),
    reasons: z.array(z.string()),
    policyVersion: z.string().nullable(),
    installationId: z.number().int(),
    /**
     * A deployment waiting on a gate: the request people vote on in Slack (its key, whose deployment,
     * the gate resolved when it began to wait). Carried on to the entry that ends it.
     */
    approval: z
      .object({
        key: z.string(),
        agentId: z.string(),
        owner: z.string().nullable(),
        rule: gateRuleSchema,
        requestedAt: z.string(),
      })
      .optional(),
  }),
  /** A vote counted on a deployment waiting on a gate (`requestSeq`: the waiting entry it was cast on). */
  'deployment.vote': z.object({
    approvalKey: z.string(),
    repository: z.string(),
    runId: z.number().int(),
    environment: z.string(),
    requestSeq: z.number().int(),
    approver: z.string(),
    verdict: z.enum(['approve', 'reject']),
    reason: z.string(),
    source: z.enum(['slack']),
  }),
  'approval.requested': z.object({
    approvalId: z.string(),
    subject: z.string(),
    required: z.number().int().positive(),
    expiresAt: z.string(),
  }),
  'approval.resolved': z.object({
    approvalId: z.string(),
    /** `closed`: over for a reason outside the request (a push, a denial, the agent revoked). */
    outcome: z.enum(['approved', 'rejected', 'expired', 'closed']),
    reason: z.string().optional(),
  }),
  'approval.recorded': z.object({
    repository: z.string(),
    number: z.number().int(),
    approver: z.string(),
    verdict: z.enum(['approve', 'reject']),
    gate: z.string().nullable(),
    headSha: z.string(),
    diffHash: z.string(),
    policyVersion: z.string(),
    source: z.enum(['github_review', 'slack', 'cli']),
    /** GitHub's id of the review it came from: the same review sent again is not recorded twice. */
    reviewId: z.number().int().optional(),
  }),
  /** A click on an approval button in Slack, refused ones included. */
  'approval.click': z.object({
    slackUser: z.string(),
    githubLogin: z.string().nullable(),
    action: z.enum(['approve', 'reject']),
    approvalKey: z.string(),
    accepted: z.boolean(),
    reason: z.string(),
  }),
  /**
   * A click on a button of a check run (`check_run.requested_action`), refused ones included: who
   * clicked which button on which PR at which commit, and what came of it. A refused click changes
   * nothing else; an accepted `ask_approvers` is followed by a reminder in Slack.
   */
  'check_run.button': z.object({
    repository: z.string(),
    /** The PR the check is about; null when the check named none this app decided. */
    number: z.number().int().nullable(),
    headSha: z.string(),
    sender: z.string(),
    /** As GitHub sent it: one of this app's buttons, or anything else (refused). */
    identifier: z.string(),
    button: z.enum(['reevaluate', 'ask_approvers']).nullable(),
    accepted: z.boolean(),
    /** Why it was refused, or what was done. */
    outcome: z.string(),
    /** The ledger entry of the webhook delivery: one click, one entry, whatever retries follow. */
    deliverySeq: z.number().int(),
  }),
  /** The members of the council's Slack user group, as last read (GitHub logins; unmapped Slack users apart). */
  'council.membership': z.object({
    usergroup: z.string(),
    members: z.array(z.string()),
    unmapped: z.array(z.string()),
  }),
  'pr.merged': z.object({
    repository: z.string(),
    number: z.number().int(),
    headSha: z.string(),
    /** The commit the merge made on the base branch; a later revert or CI failure names it. */
    mergeCommitSha: z.string().nullable().optional(),
    tier: z.enum(TIER_IDS),
  }),
  /** A merged agent PR that turned out badly: reverted, or it broke the default branch's CI. */
  'pr.bad_outcome': z.object({
    repository: z.string(),
    number: z.number().int(),
    outcome: z.enum(['reverted', 'broke_default_branch']),
    evidence: z.string(),
  }),
} as const;
