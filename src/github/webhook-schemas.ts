/**
 * The shape of every webhook this app handles: only the fields it reads, so a real payload with
 * more passes, and one missing what we need is refused at the edge with a 400.
 */
import { z } from 'zod';
import { changesGovernanceFiles } from '../core/policy/evaluation-inputs.js';
import { revertedCommits } from '../core/reverts.js';

/**
 * Text GitHub keeps short, with room to spare: an action, a state or a login (GitHub's are under
 * 40 characters), a branch or environment name, a PR title (256 on GitHub), a commit id. What is
 * stored of a delivery stays small, and the ledger never holds megabytes sent as an `action`.
 */
const word = z.string().max(100);
const label = z.string().max(1024);
const installation = z.object({ id: z.number().int().positive() });
/**
 * A repository as GitHub names it: an owner of letters, digits, `-` and `_` (managed users' logins
 * end in `_shortcode`), a name of letters, digits, `.`, `_` and `-` that is not `.` or `..`, and a
 * full name that is exactly the two. Both go into API paths: a dot segment would name another one.
 */
const repository = z
  .object({
    full_name: z.string().max(202),
    name: z.string().regex(/^(?!\.{1,2}$)[A-Za-z0-9._-]{1,100}$/, 'not a GitHub repository name'),
    owner: z.object({ login: z.string().regex(/^[A-Za-z0-9_-]{1,100}$/, 'not a GitHub owner name') }),
    default_branch: label.min(1),
  })
  .refine((r) => r.full_name === `${r.owner.login}/${r.name}`, {
    message: 'full_name is not owner/name',
    path: ['full_name'],
  });
const user = z.object({ login: word.min(1) });
export const pullRequestSchema = z.object({
  number: z.number().int().positive(),
  title: label,
  html_url: label,
  user,
  state: word,
  draft: z.boolean().optional(),
  merged: z.boolean().nullable().optional(),
  merge_commit_sha: word.nullable().optional(),
  /** GitHub caps a PR's body at 65,536 characters. */
  body: z.string().max(131_072).nullable().optional(),
  /** How many files the PR changes; GitHub lists at most 3,000 of them. */
  changed_files: z.number().int().nonnegative().optional(),
  head: z.object({ sha: z.string().regex(/^[0-9a-f]{40}$/), ref: label }),
  base: z.object({ ref: label }),
  /** When GitHub last changed the PR: which of two snapshots of it is the newer. */
  updated_at: word.optional(),
});
export type WebhookPullRequest = z.infer<typeof pullRequestSchema>;
const prRef = z.object({ number: z.number().int().positive() });

const withRepo = { installation, repository };

export const WEBHOOK_SCHEMAS = {
  pull_request: z.object({
    action: word,
    pull_request: pullRequestSchema,
    /** A `synchronize`'s head before the push: the commit the PR moved from. */
    before: word.optional(),
    ...withRepo,
  }),
  pull_request_review: z.object({
    action: word,
    review: z.object({ id: z.number().int().optional(), user, state: word, commit_id: word }),
    pull_request: pullRequestSchema,
    ...withRepo,
  }),
  check_run: z
    .object({
      action: word,
      check_run: z.object({
        /** Compared with the id of the check run this app wrote: a click on another is refused. */
        id: z.number().optional(),
        name: label,
        head_sha: word,
        pull_requests: z.array(prRef),
        /** The app that created the check run: a click on another app's check is not ours. */
        app: z.object({ id: z.number().int() }).nullable().optional(),
      }),
      /** A click on a button of the check (action `requested_action`); GitHub caps it at 20 characters. */
      requested_action: z.object({ identifier: z.string().max(100) }).optional(),
      sender: user.optional(),
      ...withRepo,
    })
    .refine((p) => p.action !== 'requested_action' || (p.requested_action && p.sender), {
      message: 'a requested_action names its requested_action.identifier and its sender',
      path: ['requested_action'],
    }),
  check_suite: z.object({
    action: word,
    check_suite: z.object({
      head_branch: label.nullable().optional(),
      head_sha: word,
      conclusion: word.nullable(),
      pull_requests: z.array(prRef),
    }),
    ...withRepo,
  }),
  workflow_run: z.object({
    action: word,
    workflow_run: z.object({
      name: label.nullable().optional(),
      head_branch: label.nullable().optional(),
      head_sha: word,
      conclusion: word.nullable(),
      pull_requests: z.array(prRef),
    }),
    ...withRepo,
  }),
  merge_group: z.object({
    action: word,
    merge_group: z.object({
      head_sha: z.string().regex(/^[0-9a-f]{40}$/),
      base_sha: z.string().regex(/^[0-9a-f]{40}$/),
      head_ref: label,
      base_ref: label,
    }),
    ...withRepo,
  }),
  push: z.object({
    ref: label,
    /** A force-push: the branch may have moved anywhere, back to an older policy too. */
    forced: z.boolean().optional(),
    commits: z.array(
      z.object({
        id: word,
        // Not bounded: git allows any length, and a push must never be refused for its message.
        message: z.string(),
        // The files each commit touched: a revert counts only when they undo the reverted merge's.
        added: z.array(z.string()).optional(),
        removed: z.array(z.string()).optional(),
        modified: z.array(z.string()).optional(),
      }),
    ),
    ...withRepo,
  }),
  /** This app as an environment's custom deployment protection rule (action `requested`). */
  deployment_protection_rule: z
    .object({
      action: word,
      environment: label.min(1),
      event: word.optional(),
      deployment_callback_url: label.url(),
      deployment: z
        .object({
          id: z.number().int(),
          sha: word.nullable().optional(),
          ref: label.nullable().optional(),
          creator: user.nullable().optional(),
          /**
           * Free JSON set by whoever created the deployment: its `agent` is a claim, nothing more,
           * and all that is kept (the rest may be anything, nested thousands deep).
           */
          payload: z
            .unknown()
            .optional()
            .transform((p) => {
              const agent =
                p !== null && typeof p === 'object' ? (p as { agent?: unknown }).agent : undefined;
              // An agent's id is short: a longer claim names none, and is not kept.
              return typeof agent === 'string' && agent.length <= 100 ? { agent } : undefined;
            }),
        })
        .optional(),
      sender: user.optional(),
      ...withRepo,
    })
    // The answer goes to this run of this repository, never to a URL a payload chose.
    .refine((p) => runIdOf(p.deployment_callback_url, p.repository.full_name) !== null, {
      message: 'deployment_callback_url must name a workflow run of the payload repository',
      path: ['deployment_callback_url'],
    }),
  installation: z.object({ action: word, installation }),
} as const;

/**
 * The workflow run a deployment protection rule's callback URL names, when it names a run of
 * `repository` (owner/name, compared case-insensitively as GitHub does) by a safe positive integer;
 * else null.
 */
export function runIdOf(callbackUrl: string, repository: string): number | null {
  let path: string;
  try {
    path = new URL(callbackUrl).pathname;
  } catch {
    return null;
  }
  const m = /\/repos\/([^/]+\/[^/]+)\/actions\/runs\/(\d+)\/deployment_protection_rule$/.exec(path);
  if (!m || m[1]!.toLowerCase() !== repository.toLowerCase()) return null;
  // A run id GitHub could have issued: the answer's path and the ledger both need it exact.
  const runId = Number(m[2]);
  return Number.isSafeInteger(runId) && runId > 0 ? runId : null;
}

export type HandledEvent = keyof typeof WEBHOOK_SCHEMAS;

export function isHandledEvent(name: string): name is HandledEvent {
  return Object.hasOwn(WEBHOOK_SCHEMAS, name);
}

/** GitHub lists at most this many commits in a push: a longer one may hide a policy change. */
const PUSH_COMMITS_LISTED = 2048;

/**
 * Deliveries that cannot matter, acknowledged without being stored: a push matters only when it
 * reverts something on the default branch or may change the policy file there (most pushes do
 * neither, and the ledger need not hold them). A force-push, or one listing as many commits as
 * GitHub lists, may have changed it without saying so: stored.
 */
export function ignoredDelivery(event: HandledEvent, data: unknown): string | null {
  if (event !== 'push') return null;
  const p = data as z.infer<(typeof WEBHOOK_SCHEMAS)['push']>;
  if (p.ref !== `refs/heads/${p.repository.default_branch}`)
    return 'a push to a branch other than the default';
  if (p.forced || p.commits.length >= PUSH_COMMITS_LISTED) return null;
  if (changesGovernanceFiles(p.commits)) return null;
  if (!p.commits.some((c) => revertedCommits(c.message).length > 0)) return 'a push that reverts nothing';
  return null;
}
