import { z } from 'zod';
import {
  errorSchema,
  heartbeatSchema,
  lifecycleEventSchema,
  lockAcquireSchema,
  lockExtendSchema,
  lockReleaseSchema,
  lockResponseSchema,
  preflightRequestSchema,
  preflightResponseSchema,
  sessionCheckpointSchema,
} from './schemas.js';

const json = (schema: z.ZodType) => ({
  content: {
    'application/json': { schema: z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) },
  },
});
const errors = {
  '400': { description: 'The body is not valid', ...json(errorSchema) },
  '401': { description: 'No token, or not a valid one', ...json(errorSchema) },
  '403': {
    description: 'The token belongs to another agent, or the agent is not active (revoked or suspended)',
    ...json(errorSchema),
  },
  '413': { description: 'The body, or a part of it, is larger than allowed', ...json(errorSchema) },
  '429': {
    description:
      '`rate_limited`: past the agent’s request rate, or past its address’s rate of calls without a valid token; wait the seconds in Retry-After',
    headers: { 'Retry-After': { schema: { type: 'integer', minimum: 1 } } },
    ...json(errorSchema),
  },
  '503': {
    description: 'Something the service depends on failed; try again shortly (details are in its log)',
    ...json(errorSchema),
  },
};

function op(
  summary: string,
  body: z.ZodType | null,
  ok: z.ZodType | null,
  extra: Record<string, unknown> = {},
) {
  return {
    summary,
    security: [{ agentToken: [] }],
    ...(body ? { requestBody: { required: true, ...json(body) } } : {}),
    responses: { '200': { description: 'OK', ...(ok ? json(ok) : {}) }, ...errors, ...extra },
  };
}

/** A refusal of extend or release: the caller does not hold the grant it named. */
const NOT_HELD = {
  '409': {
    description: 'Not a grant you hold (a stale fencing token, or another agent’s)',
    ...json(errorSchema),
  },
};

function preflightPaths() {
  return {
    '/preflight': {
      post: op(
        'May this agent do this action on this repository and these paths now?',
        preflightRequestSchema,
        preflightResponseSchema,
        {
          '503': {
            description: 'A dependency is down: the answer is deny',
            ...json(preflightResponseSchema),
          },
        },
      ),
    },
  };
}

function lockPaths() {
  return {
    '/locks': {
      post: op('Take the execution lock', lockAcquireSchema, lockResponseSchema, {
        '409': { description: 'Held by another', ...json(errorSchema) },
      }),
    },
    '/locks/extend': {
      post: op('Extend the lock you hold', lockExtendSchema, lockResponseSchema, NOT_HELD),
    },
    '/locks/release': { post: op('Release the lock you hold', lockReleaseSchema, null, NOT_HELD) },
  };
}

/** The calls around an execution: heartbeats, lifecycle events, Vault tokens, session state. */
function executionPaths() {
  return {
    '/heartbeats': { post: op('Say you are alive during an execution', heartbeatSchema, null) },
    '/events': {
      post: op('Report plan_created, execution_started or execution_complete', lifecycleEventSchema, null),
    },
    '/vault/token': {
      post: op(
        'A short-lived Vault token for your AppRole (its accessor is recorded, so revocation can revoke it)',
        null,
        null,
      ),
    },
    '/checkpoints': {
      put: op('Save your session state (opaque JSON, size-limited)', sessionCheckpointSchema, null, {
        '413': { description: 'Too large', ...json(errorSchema) },
      }),
      get: op('Load your latest session state', null, null, {
        '404': { description: 'None saved', ...json(errorSchema) },
      }),
    },
  };
}

/** The OpenAPI document of the agent API, generated from the same zod schemas that validate it. */
export function openApiDocument(): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: { title: 'Agent Governance agent API', version: '1' },
    servers: [{ url: '/api/v1' }],
    components: {
      securitySchemes: {
        agentToken: { type: 'http', scheme: 'bearer', description: 'the token printed by `agov agents add`' },
      },
    },
    paths: { ...preflightPaths(), ...lockPaths(), ...executionPaths() },
  };
}
