import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import type { z } from 'zod';
import type { AgentRecord } from '../core/agent.js';
import type { Ledger } from '../ledger/ledger.js';
import { type Route, sendJson } from '../platform/http-server.js';
import type { Logger } from '../platform/logger.js';
import { BodyTooLargeError, readBody } from '../platform/read-body.js';
import { StateNotRestoredError } from '../state/state-store.js';
import type { AgentRuntime } from './agent-runtime.js';
import { ApiRefusal } from './api-refusal.js';
import { openApiDocument } from './openapi.js';
import { BODY_ENVELOPE_BYTES, MAX_BODY_DEPTH, nestedDeeperThan, OTHER_BODY_BYTES } from './payload-limits.js';
import { type Refusal, RefusalLog } from './refusal-log.js';
import type { RequestLimits } from './request-limits.js';
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
  /** The most a body may be, checked before it is read (default OTHER_BODY_BYTES). */
  maxBodyBytes?: number;
  /** The refusal of a body past `maxBodyBytes`: its code, and the limit that applies, in words. */
  tooLarge?: { code: string; limit: string };
}

/** The agent API route, with the log that counts refusals anyone can cause. */
export interface AgentApi extends Route {
  refusals: RefusalLog;
  /** Writes the refusals still counted and stops the log's timer. */
  close(): Promise<void>;
}

export interface AgentApiOptions {
  limits: RequestLimits;
  /** Where `agov_api_refusals_total` is registered (the service's metrics). */
  registry?: Registry | null;
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
export function createAgentApi(
  runtime: AgentRuntime,
  ledger: Ledger,
  logger: Logger,
  options: AgentApiOptions,
): AgentApi {
  const { limits } = options;
  const refusals = new RefusalLog(ledger, logger, options.registry ?? null);
  const settings = runtime.settings;
  const ok = (body: unknown) => ({ body });
  const endpoints: Record<string, Endpoint> = {
    'POST /preflight': {
      schema: preflightRequestSchema,
      handle: (a, b) => runtime.preflights.answer(a, b),
      whileInactive: true,
    },
    'POST /locks': {
      schema: lockAcquireSchema,
      handle: async (a, b) => ok(await runtime.locks.acquire(a, b.repository, b.ttlSeconds)),
    },
    'POST /locks/extend': {
      schema: lockExtendSchema,
      handle: async (a, b) => ok(await runtime.locks.extend(a, undefined, b.fencingToken, b.ttlSeconds)),
    },
    'POST /locks/release': {
      schema: lockReleaseSchema,
      handle: async (a, b) => ok(await runtime.locks.release(a, undefined, b.fencingToken)),
    },
    'POST /heartbeats': {
      schema: heartbeatSchema,
      handle: async (a) => ok(await runtime.heartbeats.beat(a)),
    },
    'POST /events': {
      schema: lifecycleEventSchema,
      handle: async (a, b) => ok(await runtime.events.record(a, b.event, b.data)),
      maxBodyBytes: settings.max_event_data_kb * 1024 + BODY_ENVELOPE_BYTES,
      tooLarge: {
        code: 'too_large',
        limit: `event data is limited to ${settings.max_event_data_kb * 1024} bytes (agent_api.max_event_data_kb)`,
      },
    },
    'PUT /checkpoints': {
      schema: sessionCheckpointSchema,
      handle: async (a, b) => ok(await runtime.checkpoints.save(a, b.state)),
      maxBodyBytes: settings.max_session_checkpoint_kb * 1024 + BODY_ENVELOPE_BYTES,
      tooLarge: {
        code: 'checkpoint_too_large',
        limit: `session state is limited to ${settings.max_session_checkpoint_kb * 1024} bytes (agent_api.max_session_checkpoint_kb)`,
      },
    },
    'GET /checkpoints': { schema: null, handle: (a) => ok(runtime.checkpoints.load(a)) },
    'POST /vault/token': { schema: null, handle: async (a) => ok(await runtime.vault.issue(a)) },
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

  /**
   * A refusal anyone can cause at line rate (no token, a bad one, past a rate limit): counted, and
   * recorded at most once a minute per source address or agent, with the count.
   */
  const refuseCounted = async (
    req: IncomingMessage,
    res: ServerResponse,
    refusal: Omit<Refusal, 'method' | 'path'>,
    who: { agentId: string | null; source: string | null },
    retryAfter?: number,
  ) => {
    const full: Refusal = { method: req.method ?? '?', path: (req.url ?? '').split('?')[0]!, ...refusal };
    await refusals.note(who.agentId ? `agent:${who.agentId}` : `address:${who.source}`, full, who);
    if (retryAfter !== undefined) res.setHeader('retry-after', String(retryAfter));
    sendJson(res, refusal.status, { error: refusal.code, message: refusal.message });
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
    let agent: AgentRecord | null = null;
    if (token) {
      try {
        agent = await runtime.auth.authenticate(token);
      } catch (error) {
        logger.warn({ err: error, path }, 'agent API: cannot check a token');
        return sendJson(res, 503, {
          error: 'unavailable',
          message: 'cannot check the token now; try again shortly',
        });
      }
    }
    if (!agent) {
      const source = sourceAddress(req);
      const who = { agentId: null, source };
      const wait = await limits.address(source);
      if (wait !== null) {
        const message = limits.describeAddressLimit(wait);
        return refuseCounted(req, res, { status: 429, code: 'rate_limited', message }, who, wait);
      }
      return token
        ? refuseCounted(
            req,
            res,
            { status: 401, code: 'bad_token', message: 'the token is not valid (rotated, or never issued)' },
            who,
          )
        : refuseCounted(
            req,
            res,
            {
              status: 401,
              code: 'unauthenticated',
              message: 'send the agent token as Authorization: Bearer <token>',
            },
            who,
          );
    }
    const wait = await limits.agent(agent.id);
    if (wait !== null) {
      const message = limits.describeAgentLimit(agent.id, wait);
      return refuseCounted(
        req,
        res,
        { status: 429, code: 'rate_limited', message },
        { agentId: agent.id, source: null },
        wait,
      );
    }
    if (!endpoint.whileInactive) {
      try {
        await runtime.auth.assertActive(agent);
      } catch (error) {
        if (!(error instanceof ApiRefusal)) throw error;
        return refuse(req, res, error.status, error.code, error.message, agent.id);
      }
    }

    let body: unknown = {};
    if (endpoint.schema) {
      let text: string;
      try {
        text = (await readBody(req, endpoint.maxBodyBytes ?? OTHER_BODY_BYTES)).toString('utf8');
      } catch (error) {
        if (error instanceof BodyTooLargeError) {
          const { code, limit } = endpoint.tooLarge ?? { code: 'too_large', limit: null };
          return refuse(req, res, 413, code, limit ? `${error.message}; ${limit}` : error.message, agent.id);
        }
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
  return { prefix: API_PREFIX, handler, refusals, close: () => refusals.close() };
}

/** The caller's address as the socket has it (an IPv4 address without its IPv6 mapping). */
function sourceAddress(req: IncomingMessage): string {
  const address = req.socket.remoteAddress ?? 'unknown';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}
