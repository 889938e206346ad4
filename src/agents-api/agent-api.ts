import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';
import type { AgentRecord } from '../core/agent.js';
import { BodyTooLargeError, readBody } from '../integrations/read-body.js';
import type { Ledger } from '../ledger/ledger.js';
import type { Logger } from '../logger.js';
import { type Route, sendJson } from '../server.js';
import { StateNotRestoredError } from '../state/state-store.js';
import type { AgentRuntime } from './agent-runtime.js';
import { ApiRefusal } from './api-refusal.js';
import { openApiDocument } from './openapi.js';
import { MAX_BODY_DEPTH, nestedDeeperThan } from './payload-limits.js';
import {
  heartbeatSchema,
  lifecycleEventSchema,
  lockAcquireSchema,
  lockExtendSchema,
  lockReleaseSchema,
  preflightRequestSchema,
  sessionCheckpointSchema,
} from './schemas.js';

export const API_PREFIX = '/api/v1';

type Handler = (
  agent: AgentRecord,
  body: any,
) => Promise<{ status?: number; body: unknown }> | { status?: number; body: unknown };
interface Endpoint {
  schema: z.ZodType | null;
  handle: Handler;
  /** Answers an agent that is not active too (preflight: its deny is the answer, and recorded). */
  whileInactive?: boolean;
}

/** What a caller is told when something inside failed: a code and what to do; details go to the log. */
const UNAVAILABLE = {
  error: 'unavailable',
  message: 'the service cannot do this now (a dependency failed); try again shortly',
};

/** A claimed agent id as echoed back: short, so a refusal never repeats a large body. */
function shortName(claimed: string): string {
  return claimed.length > 64 ? `${claimed.slice(0, 64)}…` : claimed;
}

/**
 * The agent API over HTTP: token authentication, one zod schema per body, and a JSON error with a
 * stable code for every refusal. A refused request records the refusal in the ledger and nothing else.
 * Errors from inside (SQLite, Redis, the network) are logged; the caller gets `unavailable` and a
 * sentence, never the error's text.
 */
export function createAgentApi(runtime: AgentRuntime, ledger: Ledger, logger: Logger): Route {
  const ok = (body: unknown) => ({ body });
  const endpoints: Record<string, Endpoint> = {
    'POST /preflight': {
      schema: preflightRequestSchema,
      handle: (a, b) => runtime.preflight(a, b),
      whileInactive: true,
    },
    'POST /locks': {
      schema: lockAcquireSchema,
      handle: async (a, b) => ok(await runtime.acquireLock(a, b.repository, b.ttlSeconds)),
    },
    'POST /locks/extend': {
      schema: lockExtendSchema,
      handle: async (a, b) => ok(await runtime.extendLock(a, undefined, b.fencingToken, b.ttlSeconds)),
    },
    'POST /locks/release': {
      schema: lockReleaseSchema,
      handle: async (a, b) => ok(await runtime.releaseLock(a, undefined, b.fencingToken)),
    },
    'POST /heartbeats': { schema: heartbeatSchema, handle: async (a) => ok(await runtime.heartbeat(a)) },
    'POST /events': {
      schema: lifecycleEventSchema,
      handle: async (a, b) => ok(await runtime.lifecycleEvent(a, b.event, b.data)),
    },
    'PUT /checkpoints': {
      schema: sessionCheckpointSchema,
      handle: async (a, b) => ok(await runtime.saveSessionCheckpoint(a, b.state)),
    },
    'GET /checkpoints': { schema: null, handle: (a) => ok(runtime.loadSessionCheckpoint(a)) },
    'POST /vault/token': { schema: null, handle: async (a) => ok(await runtime.vaultToken(a)) },
  };

  const refuse = async (
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    error: string,
    message: string,
    agentId: string | null,
  ) => {
    try {
      await ledger.appendSoon([
        {
          type: 'api.refused',
          agentId,
          actor: agentId ?? 'anonymous',
          payload: {
            method: req.method ?? '?',
            path: (req.url ?? '').split('?')[0]!,
            status,
            reason: `${error}: ${message}`,
          },
        },
      ]);
    } catch (failure) {
      // A refusal stands without its record: refusing is the safe direction.
      logger.warn({ err: failure, agent: agentId, error }, 'could not record an agent API refusal');
    }
    sendJson(res, status, { error, message });
  };

  const handler = async (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '').split('?')[0]!.slice(API_PREFIX.length) || '/';
    try {
      await serve(req, res, path);
    } catch (error) {
      if (error instanceof ApiRefusal)
        return sendJson(res, error.status, { error: error.code, message: error.message });
      if (error instanceof StateNotRestoredError)
        return sendJson(res, 503, { error: 'unavailable', message: error.message });
      logger.warn({ err: error, method: req.method, path }, 'agent API call failed');
      if (!res.headersSent) sendJson(res, 503, UNAVAILABLE);
    }
  };

  const serve = async (req: IncomingMessage, res: ServerResponse, path: string) => {
    if (req.method === 'GET' && path === '/openapi.json') return sendJson(res, 200, openApiDocument());
    const endpoint = endpoints[`${req.method} ${path}`];
    if (!endpoint)
      return sendJson(res, 404, {
        error: 'not_found',
        message: `no ${req.method} ${API_PREFIX}${path}; see ${API_PREFIX}/openapi.json`,
      });

    const token = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!token)
      return refuse(
        req,
        res,
        401,
        'unauthenticated',
        'send the agent token as Authorization: Bearer <token>',
        null,
      );
    let agent: AgentRecord | null;
    try {
      agent = await runtime.authenticate(token);
    } catch (error) {
      logger.warn({ err: error, path }, 'agent API: cannot check a token');
      return sendJson(res, 503, {
        error: 'unavailable',
        message: 'cannot check the token now; try again shortly',
      });
    }
    if (!agent)
      return refuse(req, res, 401, 'bad_token', 'the token is not valid (rotated, or never issued)', null);
    if (!endpoint.whileInactive) {
      try {
        await runtime.assertActive(agent);
      } catch (error) {
        if (!(error instanceof ApiRefusal)) throw error;
        return refuse(req, res, error.status, error.code, error.message, agent.id);
      }
    }

    let body: unknown = {};
    if (endpoint.schema) {
      let text: string;
      try {
        text = (await readBody(req, 12 * 1024 * 1024)).toString('utf8');
      } catch (error) {
        if (error instanceof BodyTooLargeError)
          return refuse(req, res, 413, 'too_large', error.message, agent.id);
        throw error;
      }
      let json: unknown;
      try {
        json = JSON.parse(text || 'null');
      } catch {
        return refuse(req, res, 400, 'bad_json', 'the body is not JSON', agent.id);
      }
      // Before anything walks it (zod, the ledger's serialiser): a body 100,000 levels deep once
      // overflowed the stack inside a group commit and failed other agents' writes with it.
      if (nestedDeeperThan(json, MAX_BODY_DEPTH))
        return refuse(
          req,
          res,
          400,
          'bad_request',
          `the body is nested more than ${MAX_BODY_DEPTH} levels deep`,
          agent.id,
        );
      const claimed = (json as { agent?: unknown } | null)?.agent;
      if (typeof claimed === 'string' && claimed !== agent.id) {
        return refuse(
          req,
          res,
          403,
          'wrong_agent',
          `this token belongs to ${agent.id}; it cannot act as ${shortName(claimed)}`,
          agent.id,
        );
      }
      const parsed = endpoint.schema.safeParse(json);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        return refuse(
          req,
          res,
          400,
          'bad_request',
          `${issue.path.join('.') || 'body'}: ${issue.message}`,
          agent.id,
        );
      }
      body = parsed.data;
    }
    const result = await endpoint.handle(agent, body);
    sendJson(res, result.status ?? 200, result.body);
  };
  return { prefix: API_PREFIX, handler };
}
