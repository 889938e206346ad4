import { createHash } from 'node:crypto';
import type { App, Receiver, ReceiverEvent } from '@slack/bolt';
import { LogLevel, SocketModeClient } from '@slack/socket-mode';
import { RefusalLog } from '../governance/refusal-log.js';
import type { AsyncLedger } from '../ledger/async-ledger.js';
import { type AsyncSeenRequests, seenRequestsOf } from '../ledger/seen-requests.js';
import { systemClock } from '../platform/clock.js';
import { type Route, sendJson } from '../platform/http-server.js';
import type { Logger } from '../platform/logger.js';
import { BodyBudget, isBodyRefusal, readBody, refuseBody } from '../platform/read-body.js';
import { sourceAddress } from '../platform/source-address.js';
import type { StateStore } from '../state/state-store.js';
import { type Kind, parse, parseHttpBody } from './slack-payloads.js';
import { MAX_SKEW_SECONDS, verifySlackRequest } from './verify-slack-request.js';

export const SLACK_PATH = '/slack/events';

/**
 * Slack's requests are slash commands, clicks, modal submissions and Events API callbacks: a few
 * kilobytes, tens at most for a large modal. 1 MB leaves room and refuses everything else.
 */
export const SLACK_MAX_BODY = 1024 * 1024;

/**
 * Bolt's receiver. Over HTTP, on our one server: verifies the signature and the timestamp in both
 * directions (Bolt checks only the past). In Socket Mode (for development, with an app-level token):
 * the same requests arrive as envelopes on a WebSocket that the token authenticates. Either way the
 * payload is validated, Slack's retries and double clicks it has seen are dropped, and the rest goes
 * to Bolt, whose listeners `ack()` first. A refusal is recorded in the ledger and nothing else: at
 * most once a minute per source address, with the count, since anyone can send them at line rate.
 */
export class SlackReceiver implements Receiver {
  private app: App | null = null;
  private socket: SocketModeClient | null = null;
  private readonly inflight = new Set<Promise<unknown>>();
  readonly route: Route;
  /** Unsigned bodies held at once, before their signature can be checked: 8 MB, or 64 reads. */
  readonly bodies = new BodyBudget(8 * SLACK_MAX_BODY, 64);
  private readonly seen: AsyncSeenRequests;
  private readonly refusals: RefusalLog;

  constructor(
    private readonly options: {
      /** Absent in Socket Mode only: then no HTTP request is accepted. */
      signingSecret: string | undefined;
      store: AsyncLedger;
      state: StateStore;
      logger: Logger;
      now?: () => number;
    },
  ) {
    this.route = { prefix: SLACK_PATH, handler: (req, res) => this.handle(req, res) };
    this.seen = seenRequestsOf(options.store);
    this.refusals = new RefusalLog(options.store, options.logger, null, systemClock);
  }

  init(app: App): void {
    this.app = app;
  }

  async start(): Promise<void> {}
  async stop(): Promise<void> {}

  /** Writes the refusals counted and not yet recorded. */
  close(): Promise<void> {
    return this.refusals.close();
  }

  /** Opens the Socket Mode connection (`apps.connections.open`, then the WebSocket it names). */
  async connectSocketMode(appToken: string, apiUrl: string | undefined): Promise<void> {
    const socket = new SocketModeClient({
      appToken,
      logLevel: LogLevel.ERROR,
      ...(apiUrl ? { clientOptions: { slackApiUrl: apiUrl } } : {}),
    });
    socket.on(
      'slack_event',
      (envelope: {
        type: string;
        body: unknown;
        ack: (r?: unknown) => Promise<void>;
        retry_num?: number;
      }) => {
        void this.fromSocket(envelope);
      },
    );
    this.socket = socket;
    await socket.start();
  }

  async disconnectSocketMode(): Promise<void> {
    await this.socket?.disconnect();
    this.socket = null;
  }

  private async fromSocket(envelope: {
    type: string;
    body: unknown;
    ack: (response?: unknown) => Promise<void>;
    retry_num?: number;
  }): Promise<void> {
    const kind: Kind | null =
      envelope.type === 'slash_commands'
        ? 'command'
        : envelope.type === 'interactive'
          ? 'interaction'
          : envelope.type === 'events_api'
            ? 'event'
            : null;
    if (!kind) return envelope.ack();
    const parsed = parse(kind, envelope.body);
    if (!parsed.ok) {
      await this.refusal('SOCKET', 'socket', parsed);
      return envelope.ack();
    }
    await this.dispatch(parsed, envelope.retry_num ?? 0, (response) => envelope.ack(response));
  }

  private refusal(method: string, source: string, r: { status: number; error: string; message: string }) {
    const refusal = { method, path: SLACK_PATH, status: r.status, code: r.error, message: r.message };
    return this.refusals.note(`address:${source}`, refusal, { agentId: null, source, actor: 'slack' });
  }

  private async handle(
    req: Parameters<Route['handler']>[0],
    res: Parameters<Route['handler']>[1],
  ): Promise<void> {
    const refuse = async (status: number, error: string, message: string) => {
      await this.refusal(req.method ?? '?', sourceAddress(req), { status, error, message });
      sendJson(res, status, { error, message });
    };
    if (req.method !== 'POST')
      return sendJson(res, 405, { error: 'method_not_allowed', message: 'Slack POSTs' });
    if (!this.options.signingSecret)
      return refuse(404, 'socket_mode', 'this app receives Slack over Socket Mode; HTTP requests are off');
    const text = await this.readSigned(this.options.signingSecret, req, res, refuse);
    if (text === null) return;
    const parsed = parseHttpBody(text, String(req.headers['content-type'] ?? ''));
    if ('challenge' in parsed) return sendJson(res, 200, { challenge: parsed.challenge });
    if (!parsed.ok) return refuse(parsed.status, parsed.error, parsed.message);
    let acked = false;
    await this.dispatch(
      parsed,
      Number(header(req.headers['x-slack-retry-num']) ?? 0) || 0,
      async (response) => {
        if (acked) return;
        acked = true;
        if (response === undefined || response === '') res.writeHead(200).end();
        else sendJson(res, 200, typeof response === 'string' ? { text: response } : response);
      },
    );
  }

  /**
   * The body of a request Slack signed and that was not received before; null when it was
   * answered already (refused, or a replay).
   */
  private async readSigned(
    signingSecret: string,
    req: Parameters<Route['handler']>[0],
    res: Parameters<Route['handler']>[1],
    refuse: (status: number, error: string, message: string) => Promise<void>,
  ): Promise<string | null> {
    let text: string;
    try {
      text = (await readBody(req, SLACK_MAX_BODY, this.bodies)).toString('utf8');
    } catch (error) {
      // Refused before a signature could be checked: an anonymous flood must not grow the ledger.
      if (!isBodyRefusal(error)) throw error;
      this.options.logger.warn({ reason: error.message }, 'Slack request refused before reading it');
      refuseBody(req, res, error);
      return null;
    }
    const signed = {
      timestamp: header(req.headers['x-slack-request-timestamp']),
      signature: header(req.headers['x-slack-signature']),
    };
    const now = Math.floor((this.options.now?.() ?? Date.now()) / 1000);
    const verdict = verifySlackRequest(signingSecret, signed, text, now);
    if (!verdict.ok) {
      await refuse(401, 'bad_signature', verdict.reason);
      return null;
    }
    // A signature stays valid for 5 minutes: the same bytes sent again within them are a replay.
    // Remembered in the ledger database, so a restart of a one-node service with in-process state
    // does not forget them. Not recorded: a replay flood must not grow the ledger. One that says it
    // is Slack retrying is answered as a retry is (done once already), never done again.
    if (await this.firstSight(signed.signature!, Number(signed.timestamp) + MAX_SKEW_SECONDS, now))
      return text;
    if (header(req.headers['x-slack-retry-num'])) res.writeHead(200).end();
    else {
      this.options.logger.warn(
        { path: SLACK_PATH },
        'Slack request refused: a replay of one already received',
      );
      sendJson(res, 401, { error: 'replayed', message: 'this signed request was already received' });
    }
    return null;
  }

  /**
   * Replay protection in the ledger database; while that cannot be written (a full disk), in the
   * state store for the same window, so `/agent revoke` and `pause` still work when they matter most.
   */
  private async firstSight(signature: string, expiresAt: number, now: number): Promise<boolean> {
    try {
      // Awaited here: a ledger that cannot take the write (a full disk) falls back below.
      return await this.seen.firstSight(signature, expiresAt, now);
    } catch (error) {
      this.options.logger.warn(
        { err: error },
        'cannot record a Slack signature in the ledger database; using the state store',
      );
      const key = `slack-signature:${createHash('sha256').update(signature).digest('hex')}`;
      return this.options.state.markDeliverySeen(key, Math.max(expiresAt - now, 1) * 1000);
    }
  }

  /** One validated request, however it came: at most once per dedupe key, acknowledged exactly once. */
  private async dispatch(
    parsed: { body: Record<string, unknown>; dedupeKey: string },
    retryNum: number,
    respond: (response?: unknown) => Promise<void>,
  ): Promise<void> {
    // A Slack retry or a double click delivers the same thing again: it is answered, not done twice.
    if (!(await this.options.state.markDeliverySeen(parsed.dedupeKey, 3600_000))) return respond();
    let acked = false;
    const event: ReceiverEvent = {
      body: parsed.body,
      retryNum,
      ack: async (response?: unknown) => {
        if (acked) return;
        acked = true;
        await respond(response);
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
