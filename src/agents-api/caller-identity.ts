import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AgentRecord } from '../core/agent.js';
import { sendJson } from '../platform/http-server.js';
import type { Logger } from '../platform/logger.js';
import { sourceAddress } from '../platform/source-address.js';
import type { AgentAuthenticator } from './agent-authenticator.js';
import type { RefusalAnswers } from './refusal-answers.js';
import type { RequestLimits } from './request-limits.js';

/** What telling who calls takes: the token check, the request rates, and the way to refuse. */
export interface CallerChecks {
  auth: AgentAuthenticator;
  limits: RequestLimits;
  answers: RefusalAnswers;
  logger: Logger;
}

/**
 * The agent whose token the call carries, within its request rate; or null once the call has been
 * answered (no token, a bad one, past a rate limit, or tokens cannot be checked now).
 */
export async function identifyCaller(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  checks: CallerChecks,
): Promise<AgentRecord | null> {
  const token = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
  let agent: AgentRecord | null = null;
  if (token) {
    try {
      agent = await checks.auth.authenticate(token);
    } catch (error) {
      checks.logger.warn({ err: error, path }, 'agent API: cannot check a token');
      sendJson(res, 503, { error: 'unavailable', message: 'cannot check the token now; try again shortly' });
      return null;
    }
  }
  if (!agent) {
    await refuseWithoutAgent(req, res, token !== undefined, checks);
    return null;
  }
  const wait = await checks.limits.agent(agent.id);
  if (wait !== null) {
    const message = checks.limits.describeAgentLimit(agent.id, wait);
    const refusal = { status: 429, code: 'rate_limited', message };
    await checks.answers.counted(req, res, refusal, { agentId: agent.id, source: null }, wait);
    return null;
  }
  return agent;
}

/** A call without a valid token: past its address's rate, or told what is wrong with its token. */
async function refuseWithoutAgent(
  req: IncomingMessage,
  res: ServerResponse,
  hadToken: boolean,
  checks: CallerChecks,
): Promise<void> {
  const source = sourceAddress(req);
  const who = { agentId: null, source };
  const wait = await checks.limits.address(source);
  if (wait !== null) {
    const message = checks.limits.describeAddressLimit(wait);
    return checks.answers.counted(req, res, { status: 429, code: 'rate_limited', message }, who, wait);
  }
  const refusal = hadToken
    ? { status: 401, code: 'bad_token', message: 'the token is not valid (rotated, or never issued)' }
    : {
        status: 401,
        code: 'unauthenticated',
        message: 'send the agent token as Authorization: Bearer <token>',
      };
  return checks.answers.counted(req, res, refusal, who);
}
