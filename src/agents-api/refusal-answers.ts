import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Refusal, RefusalLog } from '../governance/refusal-log.js';
import type { AsyncLedger } from '../ledger/async-ledger.js';
import { sendJson } from '../platform/http-server.js';
import type { Logger } from '../platform/logger.js';
import type { ApiRefusal } from './api-refusal.js';

/** The path of a request, without its query. */
export function requestPath(req: IncomingMessage): string {
  return (req.url ?? '').split('?')[0]!;
}

/** Who caused a refusal: the agent its token names, or else the address it came from. */
export interface RefusedCaller {
  agentId: string | null;
  source: string | null;
}

/**
 * Answers a refused call with its status and `{ error, message }`, and leaves a trace of it in
 * the ledger: each refusal of an authenticated agent is recorded; those anyone can cause at line
 * rate are counted (see RefusalLog).
 */
export class RefusalAnswers {
  constructor(
    private readonly store: AsyncLedger,
    private readonly logger: Logger,
    private readonly log: RefusalLog,
  ) {}

  /** Records the refusal as an `api.refused` entry, then answers it. */
  async recorded(req: IncomingMessage, res: ServerResponse, refusal: ApiRefusal, agentId: string | null) {
    const { status, code: error, message } = refusal;
    try {
      await this.store.append({
        type: 'api.refused',
        agentId,
        actor: agentId ?? 'anonymous',
        payload: {
          method: req.method ?? '?',
          path: requestPath(req),
          status,
          reason: `${error}: ${message}`,
        },
      });
    } catch (failure) {
      // A refusal stands without its record: refusing is the safe direction.
      this.logger.warn({ err: failure, agent: agentId, error }, 'could not record an agent API refusal');
    }
    sendJson(res, status, { error, message });
  }

  /**
   * A refusal anyone can cause at line rate (no token, a bad one, past a rate limit): counted, and
   * recorded at most once a minute per source address or agent, with the count.
   */
  async counted(
    req: IncomingMessage,
    res: ServerResponse,
    refusal: Omit<Refusal, 'method' | 'path'>,
    who: RefusedCaller,
    retryAfter?: number,
  ) {
    const full: Refusal = { method: req.method ?? '?', path: requestPath(req), ...refusal };
    await this.log.note(who.agentId ? `agent:${who.agentId}` : `address:${who.source}`, full, who);
    if (retryAfter !== undefined) res.setHeader('retry-after', String(retryAfter));
    sendJson(res, refusal.status, { error: refusal.code, message: refusal.message });
  }
}
