import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import { RefusalLog } from '../governance/refusal-log.js';
import type { AsyncLedger } from '../ledger/async-ledger.js';
import { type Route, sendJson } from '../platform/http-server.js';
import type { Logger } from '../platform/logger.js';
import { RequestAbortedError } from '../platform/read-body.js';
import { StateNotRestoredError } from '../state/state-store.js';
import { agentEndpoints } from './agent-endpoints.js';
import type { AgentRuntime } from './agent-runtime.js';
import { ApiRefusal } from './api-refusal.js';
import { type CallerChecks, identifyCaller } from './caller-identity.js';
import { openApiDocument } from './openapi.js';
import { RefusalAnswers, requestPath } from './refusal-answers.js';
import { readAgentBody } from './request-body.js';
import type { RequestLimits } from './request-limits.js';

export const API_PREFIX = '/api/v1';

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

/** Where refusals are recorded (the service's Governance has it). */
export interface AgentApiLedgers {
  store: AsyncLedger;
}

/** What a caller is told when something inside failed: a code and what to do; details go to the log. */
const UNAVAILABLE = {
  error: 'unavailable',
  message: 'the service cannot do this now (a dependency failed); try again shortly',
};

/**
 * The agent API over HTTP: token authentication, one zod schema per body, and a JSON error with a
 * stable code for every refusal. A refused request records the refusal in the ledger and nothing else.
 * Errors from inside (SQLite, Redis, the network) are logged; the caller gets `unavailable` and a
 * sentence, never the error's text.
 */
export function createAgentApi(
  runtime: AgentRuntime,
  ledgers: AgentApiLedgers,
  logger: Logger,
  options: AgentApiOptions,
): AgentApi {
  const refusals = new RefusalLog(ledgers.store, logger, options.registry ?? null, runtime.clock);
  const answers = new RefusalAnswers(ledgers.store, logger, refusals);
  const checks: CallerChecks = { auth: runtime.auth, limits: options.limits, answers, logger };
  const endpoints = agentEndpoints(runtime);

  const serve = async (req: IncomingMessage, res: ServerResponse, path: string) => {
    if (req.method === 'GET' && path === '/openapi.json') return sendJson(res, 200, openApiDocument());
    const endpoint = endpoints.get(`${req.method} ${path}`);
    if (!endpoint)
      return sendJson(res, 404, {
        error: 'not_found',
        message: `no ${req.method} ${API_PREFIX}${path}; see ${API_PREFIX}/openapi.json`,
      });
    const agent = await identifyCaller(req, res, path, checks);
    if (!agent) return;
    let body: unknown;
    try {
      if (!endpoint.whileInactive) await runtime.auth.assertActive(agent);
      body = await readAgentBody(req, endpoint, agent);
    } catch (error) {
      if (!(error instanceof ApiRefusal)) throw error;
      return answers.recorded(req, res, error, agent.id);
    }
    const result = await endpoint.handle(agent, body);
    sendJson(res, result.status ?? 200, result.body);
  };

  const handler = async (req: IncomingMessage, res: ServerResponse) => {
    const path = requestPath(req).slice(API_PREFIX.length) || '/';
    try {
      await serve(req, res, path);
    } catch (error) {
      // The caller went away: nobody to answer, and no error of ours (the server logs it at debug).
      if (error instanceof RequestAbortedError) throw error;
      if (error instanceof ApiRefusal)
        return sendJson(res, error.status, { error: error.code, message: error.message });
      if (error instanceof StateNotRestoredError)
        return sendJson(res, 503, { error: 'unavailable', message: error.message });
      logger.warn({ err: error, method: req.method, path }, 'agent API call failed');
      if (!res.headersSent) sendJson(res, 503, UNAVAILABLE);
    }
  };
  return { prefix: API_PREFIX, handler, refusals, close: () => refusals.close() };
}
