/**
 * The types of ledger entries and the shape of each payload. The ledger stores any of these;
 * projections and the state rebuild read them back through the same schemas.
 */
import { z } from 'zod';
import { agentIdentitiesSchema, agentIdSchema } from './agent.js';
import { AGENT_STATUSES, INTEGRATION_EVENTS } from './lifecycle.js';
import { TIER_IDS } from './tiers.js';
import { CONSEQUENCES, SEVERITIES, VIOLATION_TYPES } from './violations.js';

const tier = z.enum(TIER_IDS);
/**
 * A revocation or pause that took effect while the ledger could not be written, recorded later
 * from the safety journal: when it was asked for (and took effect), and its journal id.
 */
const queuedSafetyAction = {
  requestedAt: z.string().optional(),
  journalId: z.string().optional(),
};

export const ledgerPayloadSchemas = {
  'agent.registered': z.object({
    name: z.string(),
    owner: z.string().nullable(),
    tier,
    identities: agentIdentitiesSchema,
    tokenHash: z.string().nullable(),
  }),
  'agent.token_rotated': z.object({ tokenHash: z.string() }),
  'agent.status_changed': z.object({
    from: z.enum(AGENT_STATUSES),
    to: z.enum(AGENT_STATUSES),
    reason: z.string(),
    ...queuedSafetyAction,
  }),
  'agent.tier_changed': z.object({
    from: tier,
    to: tier,
    reason: z.string(),
    kind: z.enum(['promotion', 'demotion', 'reinstatement']),
  }),
  'violation.recorded': z.object({
    violation: z.enum(VIOLATION_TYPES),
    severity: z.enum(SEVERITIES),
    consequence: z.enum(CONSEQUENCES),
    budgetCharge: z.number().nonnegative(),
    details: z.string(),
    source: z.string(),
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
  'integration.event': z.object({
    event: z.enum(INTEGRATION_EVENTS),
    data: z.record(z.string(), z.unknown()),
  }),
  'checkpoint.created': z.object({ checkpointId: z.string(), headSeq: z.number().int() }),
  /**
   * The public key (ed25519, base64 SPKI) that signs this ledger's checkpoints, written once, with
   * the first checkpoint. Verify checks every checkpoint against it, never against the key a
   * checkpoint carries.
   */
  'ledger.key_pinned': z.object({ publicKey: z.string().min(1) }),
  /** A webhook delivery accepted into the inbox. */
  'delivery.received': z.object({
    source: z.enum(['github', 'slack']),
    deliveryId: z.string().min(1),
    event: z.string().min(1),
    action: z.string().nullable(),
    repository: z.string().nullable(),
  }),
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
    /** Each rule that fired or waits: id, status, one-line reason. */
    rules: z.array(z.object({ rule: z.string(), status: z.string(), summary: z.string() })),
    /** The GitHub App installation, so later calls (a revocation failing the check) can reach the PR. */
    installationId: z.number().int().optional(),
    title: z.string().optional(),
    url: z.string().optional(),
    /** The approvals each waiting gate needs, for the people asked (Slack). */
    gates: z
      .array(
        z.object({
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
        }),
      )
      .optional(),
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
  }),
  'preflight.decided': z.object({
    action: z.string(),
    repository: z.string(),
    decision: z.enum(['allow', 'deny']),
    reasons: z.array(z.string()),
  }),
  'execution.lock': z.object({
    op: z.enum(['acquired', 'extended', 'released', 'expired', 'refused']),
    lockKey: z.string(),
    token: z.number().int().nullable(),
    detail: z.string(),
    /** The TTL an acquisition or extension granted (absent on entries written before it was recorded). */
    ttlSeconds: z.number().int().positive().optional(),
  }),
  'session.checkpoint_saved': z.object({ sha256: z.string(), bytes: z.number().int() }),
  /** A request the agent API refused: who claimed to be whom, and why. Nothing else was recorded. */
  'api.refused': z.object({
    method: z.string(),
    path: z.string(),
    status: z.number().int(),
    reason: z.string(),
    /**
     * Refusals counted in one entry: unauthenticated and rate-limited ones are recorded at most
     * once a minute per source address (or agent), with how many there were since the last entry.
     */
    count: z.number().int().positive().optional(),
    /** The source address of unauthenticated refusals. */
    source: z.string().optional(),
    /** The refusals counted, by error code. */
    codes: z.record(z.string(), z.number().int().nonnegative()).optional(),
  }),
  'revocation.requested': z.object({
    revocationId: z.string(),
    reason: z.string(),
    effects: z.array(z.string()),
    ...queuedSafetyAction,
  }),
  'revocation.effect': z.object({
    revocationId: z.string(),
    effect: z.string(),
    ok: z.boolean(),
    detail: z.string(),
  }),
  'revocation.confirmed': z.object({ revocationId: z.string() }),
  'promotion.requested': z.object({
    promotionId: z.string(),
    kind: z.enum(['promotion', 'demotion', 'reinstatement']),
    from: tier,
    to: tier,
    required: z.number().int().nonnegative(),
    council: z.boolean(),
    reason: z.string(),
  }),
  'promotion.voted': z.object({
    promotionId: z.string(),
    approver: z.string(),
    verdict: z.enum(['approve', 'reject']),
    reason: z.string(),
  }),
  'promotion.resolved': z.object({
    promotionId: z.string(),
    outcome: z.enum(['applied', 'rejected']),
    detail: z.string(),
  }),
  'vault.token_issued': z.object({ accessor: z.string(), ttlSeconds: z.number().int() }),
  'vault.calls': z.object({
    purpose: z.string(),
    calls: z.array(z.object({ op: z.string(), path: z.string(), ok: z.boolean(), detail: z.string() })),
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
  /** A pattern the bug watcher found; raised once while it stays true, then resolved. */
  'finding.raised': z.object({
    key: z.string(),
    rule: z.string(),
    summary: z.string(),
    evidence: z.array(z.string()),
  }),
  'finding.resolved': z.object({ key: z.string() }),
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

export type LedgerEntryType = keyof typeof ledgerPayloadSchemas;
export const LEDGER_ENTRY_TYPES = Object.keys(ledgerPayloadSchemas) as LedgerEntryType[];
export type LedgerPayload<T extends LedgerEntryType> = z.infer<(typeof ledgerPayloadSchemas)[T]>;

/** What a caller hands the ledger. The ledger adds sequence, time and hashes. */
export type LedgerEntryInput = {
  [T in LedgerEntryType]: { type: T; agentId: string | null; actor: string; payload: LedgerPayload<T> };
}[LedgerEntryType];

/** An entry as it stands in the chain. */
export type LedgerEntry = LedgerEntryInput & {
  seq: number;
  ts: string;
  prevHash: string;
  hash: string;
};

export const ledgerAgentIdSchema = agentIdSchema.nullable();

export function isLedgerEntryType(value: string): value is LedgerEntryType {
  return Object.hasOwn(ledgerPayloadSchemas, value);
}
