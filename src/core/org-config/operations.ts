/** The organisation config's limits of the agent API, and where the bug watcher's findings go on GitHub. */
import { z } from 'zod';

/** `watchers:` where the bug watcher opens its findings as GitHub issues. */
export const watchersSection = z
  .object({
    /** `owner/repo` where each finding is also opened as a GitHub issue (closed when it clears). */
    findings_repository: z
      .string()
      .regex(/^[\w.-]+\/[\w.-]+$/, 'a repository is written owner/repo')
      .optional(),
    /** Labels of those issues; the first also finds them again. */
    issue_labels: z.array(z.string().min(1)).min(1).default(['agent-governance']),
  })
  .strict()
  .default({ issue_labels: ['agent-governance'] });

/** `agent_api:` locks, heartbeats, rate limits and payload sizes of the agent API. */
export const agentApiSection = z
  .object({
    /** One execution per agent, or one per repository across agents. */
    lock_scope: z.enum(['agent', 'repo']).default('agent'),
    max_lock_ttl_seconds: z.number().int().positive().default(3600),
    /** A heartbeat counts this long; an execution without one is `heartbeat_missed`. */
    heartbeat_ttl_seconds: z.number().int().positive().default(60),
    preflights_per_minute: z.number().int().positive().default(120),
    /** Every call of one agent, whatever it is; past it 429 with Retry-After. */
    requests_per_minute: z.number().int().positive().default(1200),
    /** Calls from one source address without a valid token (missing, bad): brute force, floods. */
    unauthenticated_per_minute: z.number().int().positive().default(60),
    /** Event `data` and session state are summaries and resume points, not payload stores. */
    max_event_data_kb: z.number().int().positive().max(10_240).default(64),
    max_session_checkpoint_kb: z.number().int().positive().max(10_240).default(64),
  })
  .strict()
  .default({
    lock_scope: 'agent',
    max_lock_ttl_seconds: 3600,
    heartbeat_ttl_seconds: 60,
    preflights_per_minute: 120,
    requests_per_minute: 1200,
    unauthenticated_per_minute: 60,
    max_event_data_kb: 64,
    max_session_checkpoint_kb: 64,
  });
