import type { IncomingMessage } from 'node:http';
import type { AgentRecord } from '../core/agent.js';
import { BodyTooLargeError, readBody } from '../platform/read-body.js';
import type { Endpoint } from './agent-endpoints.js';
import { ApiRefusal } from './api-refusal.js';
import { MAX_BODY_DEPTH, nestedDeeperThan, OTHER_BODY_BYTES } from './payload-limits.js';

/** A claimed agent id as echoed back: short, so a refusal never repeats a large body. */
function shortName(claimed: string): string {
  return claimed.length > 64 ? `${claimed.slice(0, 64)}…` : claimed;
}

/**
 * The body of an agent's call, as its endpoint's schema parses it (`{}` for a call without one).
 * Refuses (ApiRefusal) a body past the endpoint's cap, not JSON, nested too deep, claiming another
 * agent, or not of the schema.
 */
export async function readAgentBody(
  req: IncomingMessage,
  endpoint: Endpoint,
  agent: AgentRecord,
): Promise<unknown> {
  const { schema } = endpoint;
  if (!schema) return {};
  const json = parseJson(await readText(req, endpoint));
  // Before anything walks it (zod, the ledger's serialiser): a body 100,000 levels deep once
  // overflowed the stack inside a group commit and failed other agents' writes with it.
  if (nestedDeeperThan(json, MAX_BODY_DEPTH))
    throw new ApiRefusal(400, 'bad_request', `the body is nested more than ${MAX_BODY_DEPTH} levels deep`);
  const claimed = (json as { agent?: unknown } | null)?.agent;
  if (typeof claimed === 'string' && claimed !== agent.id) {
    throw new ApiRefusal(
      403,
      'wrong_agent',
      `this token belongs to ${agent.id}; it cannot act as ${shortName(claimed)}`,
    );
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ApiRefusal(400, 'bad_request', `${issue.path.join('.') || 'body'}: ${issue.message}`);
  }
  return parsed.data;
}

/** The body as text, refused before it is read past the endpoint's cap. */
async function readText(req: IncomingMessage, endpoint: Endpoint): Promise<string> {
  try {
    return (await readBody(req, endpoint.maxBodyBytes ?? OTHER_BODY_BYTES)).toString('utf8');
  } catch (error) {
    if (!(error instanceof BodyTooLargeError)) throw error;
    const { code, limit } = endpoint.tooLarge ?? { code: 'too_large', limit: null };
    throw new ApiRefusal(413, code, limit ? `${error.message}; ${limit}` : error.message);
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text || 'null');
  } catch {
    throw new ApiRefusal(400, 'bad_json', 'the body is not JSON');
  }
}
