import type { App, Receiver, ReceiverEvent } from '@slack/bolt';
import { BodyTooLargeError, readBody } from '../integrations/read-body.js';
import type { Ledger } from '../ledger/ledger.js';
import type { Logger } from '../logger.js';
import { type Route, sendJson } from '../server.js';
import type { StateStore } from '../state/state-store.js';
import { interactionSchema, slashCommandSchema } from './slack-payloads.js';
import { verifySlackRequest } from './verify-slack-request.js';

export const SLACK_PATH = '/slack/events';

/**
 * Bolt's receiver, on our one HTTP server: verifies the signature and the timestamp in both
 * directions (Bolt checks only the past), validates the payload, drops Slack's retries and double
 * clicks it has seen, and hands the rest to Bolt, whose listeners `ack()` first. A refusal is
 * recorded in the ledger and nothing else.
 */
export class SlackReceiver implements Receiver {
  private app: App | null = null;
  private readonly inflight = new Set<Promise<unknown>>();
  readonly route: Route;

  constructor(
    private readonly options: {
      signingSecret: string;
      ledger: Ledger;
      state: StateStore;
      logger: Logger;
      now?: () => number;
    },
  ) {
    this.route = { prefix: SLACK_PATH, handler: (req, res) => this.handle(req, res) };
  }

  init(app: App): void {
    this.app = app;
  }

  async start(): Promise<void> {}
  async stop(): Promise<void> {}

  private async handle(
    req: Parameters<Route['handler']>[0],
    res: Parameters<Route['handler']>[1],
  ): Promise<void> {
    const refuse = async (status: number, error: string, message: string) => {
      await this.options.ledger.appendSoon([
        {
          type: 'api.refused',
          agentId: null,
          actor: 'slack',
          payload: { method: req.method ?? '?', path: SLACK_PATH, status, reason: `${error}: ${message}` },
        },
      ]);
      sendJson(res, status, { error, message });
    };
    if (req.method !== 'POST')
      return sendJson(res, 405, { error: 'method_not_allowed', message: 'Slack POSTs' });
    let text: string;
    try {
      text = (await readBody(req, 1024 * 1024)).toString('utf8');
    } catch (error) {
      if (error instanceof BodyTooLargeError) return refuse(413, 'too_large', error.message);
      throw error;
    }
    const verdict = verifySlackRequest(
      this.options.signingSecret,
      {
        timestamp: header(req.headers['x-slack-request-timestamp']),
        signature: header(req.headers['x-slack-signature']),
      },
      text,
      Math.floor((this.options.now?.() ?? Date.now()) / 1000),
    );
    if (!verdict.ok) return refuse(401, 'bad_signature', verdict.reason);

    const form = new URLSearchParams(text);
    let body: Record<string, unknown>;
    let dedupeKey: string;
    if (String(req.headers['content-type'] ?? '').startsWith('application/json')) {
      // The Events API: the URL check, and events such as app_home_opened.
      let json: { type?: string; challenge?: string; event_id?: string; event?: { type?: string } };
      try {
        json = JSON.parse(text);
      } catch {
        return refuse(400, 'bad_payload', 'the body is not JSON');
      }
      if (json.type === 'url_verification') return sendJson(res, 200, { challenge: json.challenge });
      if (json.type !== 'event_callback' || !json.event_id || !json.event?.type)
        return refuse(400, 'bad_payload', 'not an event callback');
      body = json as Record<string, unknown>;
      dedupeKey = `slack:${json.event_id}`;
    } else if (form.has('payload')) {
      let json: unknown;
      try {
        json = JSON.parse(form.get('payload')!);
      } catch {
        return refuse(400, 'bad_payload', 'payload is not JSON');
      }
      const parsed = interactionSchema.safeParse(json);
      if (!parsed.success)
        return refuse(
          400,
          'bad_payload',
          `not a payload this app handles: ${parsed.error.issues[0]!.path.join('.')}: ${parsed.error.issues[0]!.message}`,
        );
      body = json as Record<string, unknown>;
      dedupeKey =
        parsed.data.type === 'block_actions'
          ? `slack:${parsed.data.user.id}:${parsed.data.actions[0]!.action_ts}`
          : `slack:${parsed.data.view.id}:${parsed.data.view.hash ?? ''}`;
    } else {
      const parsed = slashCommandSchema.safeParse(Object.fromEntries(form));
      if (!parsed.success)
        return refuse(
          400,
          'bad_payload',
          `not a slash command: ${parsed.error.issues[0]!.path.join('.')}: ${parsed.error.issues[0]!.message}`,
        );
      body = parsed.data;
      dedupeKey = `slack:${parsed.data.trigger_id}`;
    }
    // A Slack retry or a double click delivers the same thing again: it is answered, not done twice.
    if (!(await this.options.state.markDeliverySeen(dedupeKey, 3600_000))) {
      res.writeHead(200).end();
      return;
    }
    let acked = false;
    const event: ReceiverEvent = {
      body,
      retryNum: Number(header(req.headers['x-slack-retry-num']) ?? 0) || 0,
      ack: async (response?: unknown) => {
        if (acked) return;
        acked = true;
        if (response === undefined || response === '') res.writeHead(200).end();
        else sendJson(res, 200, typeof response === 'string' ? { text: response } : response);
      },
    };
    // Listeners ack first and go on working after the response; their work is tracked so a
    // shutdown waits for it.
    const work = this.app!.processEvent(event).catch((error: unknown) => {
      this.options.logger.error({ err: error }, 'Slack listener failed');
    });
    this.inflight.add(work);
    try {
      await work;
    } finally {
      this.inflight.delete(work);
    }
    if (!acked) await event.ack();
  }

  /** Resolves when no listener is still working. */
  async idle(): Promise<void> {
    while (this.inflight.size) await Promise.all([...this.inflight]);
  }
}

function header(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
