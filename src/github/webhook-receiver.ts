import { isUtf8 } from 'node:buffer';
import { createHmac, createSecretKey, type KeyObject, timingSafeEqual } from 'node:crypto';
import type { AsyncInbox } from '../ledger/async-ledger.js';
import type { OutboxMessageInput } from '../ledger/outbox.js';
import { type Handler, sendJson } from '../platform/http-server.js';
import type { Logger } from '../platform/logger.js';
import {
  BodyBudget,
  type BodyReadLimits,
  isBodyRefusal,
  readBody,
  refuseBody,
} from '../platform/read-body.js';
import type { WebhookPressure } from './webhook-pressure.js';
import { ignoredDelivery, isHandledEvent, WEBHOOK_SCHEMAS } from './webhook-schemas.js';
import { workGroupOf } from './work-groups.js';

/** GitHub caps webhook payloads at 25 MB (and does not deliver larger ones). */
export const GITHUB_MAX_BODY = 25 * 1024 * 1024;

/**
 * Unsigned bodies held at once, before their signature can be checked: two of GitHub's largest,
 * or 128 reads. Deliveries are usually a few kilobytes and never wait on each other; slow reads
 * are cut, and give way to new ones (`BodyBudget`).
 */
export const githubBodyBudget = (limits: Partial<BodyReadLimits> = {}, now?: () => number) =>
  new BodyBudget(64 * 1024 * 1024, 128, limits, now);

export interface WebhookReceiverOptions {
  secret: string;
  inbox: Pick<AsyncInbox, 'record'>;
  logger: Logger;
  /** Called after a delivery is stored and answered: start processing it. */
  onAccepted: () => void;
  /** Calls to store with the delivery, decided without I/O (the `queued` check of an agent PR). */
  onReceipt?: (event: string, payload: unknown, deliveryId: string) => OutboxMessageInput[];
  /** Bounds the unsigned bodies read at once (default `githubBodyBudget()`). */
  bodies?: BodyBudget;
  /** Counts the requests open until answered, for the inbox worker to let them go first. */
  pressure?: WebhookPressure;
}

/**
 * POST /api/github/webhooks. Verifies the signature over the raw body, validates the payload,
 * stores what of it the handlers read with the delivery's ledger entry (committed with the others
 * that arrived at the same moment), answers 202, and only then lets it be processed, so
 * no accepted delivery is lost and GitHub never waits on our work. A redelivered id is answered
 * but not stored or processed again.
 */
export function createWebhookReceiver(options: WebhookReceiverOptions): Handler {
  const bodies = options.bodies ?? githubBodyBudget();
  const { pressure } = options;
  // Imported once, not for every delivery; an empty secret verifies nothing.
  const key = options.secret ? createSecretKey(Buffer.from(options.secret)) : null;
  const receive: Handler = async (req, res) => {
    if (req.method !== 'POST')
      return sendJson(res, 405, { error: 'method_not_allowed', message: 'webhooks are POSTed' });
    const event = header(req.headers['x-github-event']);
    const deliveryId = header(req.headers['x-github-delivery']);
    if (!event || !deliveryId) {
      return sendJson(res, 400, {
        error: 'missing_headers',
        message: 'X-GitHub-Event and X-GitHub-Delivery are required',
      });
    }
    const payload = await readSignedPayload(req, res, { ...options, key, bodies, event, deliveryId });
    if (payload === NOT_READ) return;
    if (event === 'ping') return sendJson(res, 200, { ok: true, message: 'pong' });
    if (!isHandledEvent(event))
      return sendJson(res, 202, { ok: true, ignored: `event ${event} is not handled` });
    const shape = WEBHOOK_SCHEMAS[event].safeParse(payload);
    if (!shape.success) {
      const issue = shape.error.issues[0]!;
      return sendJson(res, 400, {
        error: 'bad_payload',
        message: `not a valid ${event} payload: ${issue.path.join('.') || 'body'}: ${issue.message}`,
      });
    }
    const ignored = ignoredDelivery(event, shape.data);
    if (ignored) return sendJson(res, 202, { ok: true, ignored });
    await store(options, res, { event, deliveryId, data: shape.data });
  };
  if (!pressure) return receive;
  return async (req, res) => {
    pressure.begin();
    try {
      await receive(req, res);
    } finally {
      pressure.end();
    }
  };
}

const NOT_READ = Symbol('not read');

/**
 * The body as JSON once its signature holds; otherwise the refusal is answered and NOT_READ given.
 * Refused before the body is read: no signature, a body GitHub would never send, or too many
 * unsigned bodies in memory already.
 */
async function readSignedPayload(
  req: Parameters<Handler>[0],
  res: Parameters<Handler>[1],
  o: Pick<WebhookReceiverOptions, 'logger'> & {
    key: KeyObject | null;
    bodies: BodyBudget;
    event: string;
    deliveryId: string;
  },
): Promise<unknown> {
  const refuseSignature = () => {
    o.logger.warn(
      { deliveryId: o.deliveryId, event: o.event },
      'webhook refused: bad or missing signature (check that WEBHOOK_SECRET matches the GitHub App settings)',
    );
    sendJson(res, 401, { error: 'bad_signature', message: 'X-Hub-Signature-256 does not match the payload' });
    return NOT_READ;
  };
  const signature = header(req.headers['x-hub-signature-256']);
  if (!signature) return refuseSignature();
  let body: Buffer;
  try {
    body = await readBody(req, GITHUB_MAX_BODY, o.bodies);
  } catch (error) {
    if (!isBodyRefusal(error)) throw error;
    refuseBody(req, res, error);
    return NOT_READ;
  }
  if (!signatureHolds(o.key, body, signature)) return refuseSignature();
  // Signed, so GitHub's (or the secret holder's): a body JSON cannot be read from is a 400.
  if (!isUtf8(body)) {
    sendJson(res, 400, {
      error: 'bad_body',
      message:
        'the body is not UTF-8 (GitHub sends JSON in UTF-8: set the webhook content type to application/json)',
    });
    return NOT_READ;
  }
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    sendJson(res, 400, {
      error: 'bad_json',
      message: 'the body is not JSON (set the webhook content type to application/json)',
    });
    return NOT_READ;
  }
}

/**
 * Stored as validated: the fields the handlers read (a 23 KB pull_request payload keeps about
 * 1 KB), so processing it parses little and the inbox row is small. Answered 202, then processed.
 */
async function store(
  options: WebhookReceiverOptions,
  res: Parameters<Handler>[1],
  d: { event: string; deliveryId: string; data: unknown },
): Promise<void> {
  const data = d.data as { action?: string; repository?: { full_name: string } };
  const entry = await options.inbox.record({
    source: 'github',
    deliveryId: d.deliveryId,
    event: d.event,
    action: data.action ?? null,
    repository: data.repository?.full_name ?? null,
    payloadText: JSON.stringify(d.data),
    group: workGroupOf(d.event, d.data),
    outbox: options.onReceipt?.(d.event, d.data, d.deliveryId) ?? [],
  });
  if (!entry) return sendJson(res, 200, { ok: true, duplicate: true });
  sendJson(res, 202, { ok: true, seq: entry.seq });
  options.pressure?.stored();
  options.onAccepted();
}

/**
 * Whether the signature is the HMAC of the bytes received, as GitHub computes it: never of a
 * decoded text, where bytes that were never signed (FF) decode like ones that were (EF BF BD).
 */
function signatureHolds(secret: KeyObject | null, body: Buffer, signature: string): boolean {
  if (!secret || body.length === 0) return false;
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(body).digest('hex')}`);
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
