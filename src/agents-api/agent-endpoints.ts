import type { z } from 'zod';
import type { AgentRecord } from '../core/agent.js';
import type { AgentRuntime } from './agent-runtime.js';
import { BODY_ENVELOPE_BYTES } from './payload-limits.js';
import {
  heartbeatSchema,
  lifecycleEventSchema,
  lockAcquireSchema,
  lockExtendSchema,
  lockReleaseSchema,
  preflightRequestSchema,
  sessionCheckpointSchema,
} from './schemas.js';

/** What a handler answers: a JSON body, with 200 unless it says otherwise. */
export type Answer = { status?: number; body: unknown };

/** One route of the agent API, matched by `METHOD /path` below the prefix. */
export interface Endpoint {
  /** The body's schema; null for a call without a body. */
  schema: z.ZodType | null;
  /** Gets the authenticated agent and the body as the schema parsed it. */
  handle: (agent: AgentRecord, body: unknown) => Promise<Answer> | Answer;
  /** Answers an agent that is not active too (preflight: its deny is the answer, and recorded). */
  whileInactive?: boolean;
  /** The most a body may be, checked before it is read (default OTHER_BODY_BYTES). */
  maxBodyBytes?: number;
  /** The refusal of a body past `maxBodyBytes`: its code, and the limit that applies, in words. */
  tooLarge?: { code: string; limit: string };
}

/** An endpoint whose handler is typed by its schema (the body it gets has been parsed by it). */
function withBody<S extends z.ZodType>(
  schema: S,
  handle: (agent: AgentRecord, body: z.output<S>) => Promise<Answer> | Answer,
  more: Omit<Endpoint, 'schema' | 'handle'> = {},
): Endpoint {
  return { schema, handle: (agent, body) => handle(agent, body as z.output<S>), ...more };
}

/** A body cap from the organisation config, plus room for the envelope, and how to say it. */
function capped(kb: number, code: string, what: string, setting: string) {
  return {
    maxBodyBytes: kb * 1024 + BODY_ENVELOPE_BYTES,
    tooLarge: { code, limit: `${what} is limited to ${kb * 1024} bytes (agent_api.${setting})` },
  };
}

const ok = (body: unknown): Answer => ({ body });

/** The agent API's routes, each one line of work for one part of the runtime. */
export function agentEndpoints(runtime: AgentRuntime): Map<string, Endpoint> {
  const { preflights, locks, heartbeats, events, checkpoints, vault } = runtime;
  const settings = runtime.settings;
  return new Map<string, Endpoint>([
    [
      'POST /preflight',
      withBody(preflightRequestSchema, (a, b) => preflights.answer(a, b), { whileInactive: true }),
    ],
    [
      'POST /locks',
      withBody(lockAcquireSchema, async (a, b) => ok(await locks.acquire(a, b.repository, b.ttlSeconds))),
    ],
    [
      'POST /locks/extend',
      withBody(lockExtendSchema, async (a, b) =>
        ok(await locks.extend(a, b.lockKey, b.fencingToken, b.ttlSeconds)),
      ),
    ],
    [
      'POST /locks/release',
      withBody(lockReleaseSchema, async (a, b) => ok(await locks.release(a, b.lockKey, b.fencingToken))),
    ],
    ['POST /heartbeats', withBody(heartbeatSchema, async (a) => ok(await heartbeats.beat(a)))],
    [
      'POST /events',
      withBody(
        lifecycleEventSchema,
        async (a, b) => ok(await events.record(a, b.event, b.data)),
        capped(settings.max_event_data_kb, 'too_large', 'event data', 'max_event_data_kb'),
      ),
    ],
    [
      'PUT /checkpoints',
      withBody(
        sessionCheckpointSchema,
        async (a, b) => ok(await checkpoints.save(a, b.state)),
        capped(
          settings.max_session_checkpoint_kb,
          'checkpoint_too_large',
          'session state',
          'max_session_checkpoint_kb',
        ),
      ),
    ],
    ['GET /checkpoints', { schema: null, handle: async (a) => ok(await checkpoints.load(a)) }],
    ['POST /vault/token', { schema: null, handle: async (a) => ok(await vault.issue(a)) }],
  ]);
}
