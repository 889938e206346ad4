/**
 * Alerts (a revocation, a critical or high violation) travel in a lane of their own in the Slack
 * outbox: the deliverer drains it before any other message, so 2,000 queued notifications of a
 * spamming agent cannot hold a revocation alert back. Identical alerts are one message: those
 * queued together go out once with their count and sources, and a repeat within a minute of one
 * that went out waits for the end of that minute to gather the others.
 */
import { createHash } from 'node:crypto';
import type { IntegrationEvent } from '../core/lifecycle.js';
import type { AsyncOutbox } from '../ledger/async-ledger.js';
import type { OutboxMessage, OutboxMessageInput } from '../ledger/outbox.js';
import { escapeMrkdwn } from './blocks.js';

/** The ordering-key prefix of the alert lane. */
export const ALERT_LANE = 'alert:';
/** Identical alerts within this long of one that went out are gathered into one message. */
export const ALERT_COLLAPSE_MS = 60_000;
/** Sources listed in a gathered alert; the rest are counted. */
const LISTED = 10;

interface AlertPayload {
  channel: string;
  text: string;
  /** What this one alert was about (a violation's source), listed when alerts are gathered. */
  item: string | null;
}

/** Revocations and critical or high violations are alerts; everything else waits its turn. */
export function isAlert(event: IntegrationEvent, data: Record<string, unknown>): boolean {
  if (event === 'agent_revoked') return true;
  return event === 'violation_detected' && (data.severity === 'critical' || data.severity === 'high');
}

/** An alert: the event and entry that caused it, where it goes, what it says and about what; "now" in ms. */
type AlertArgs = [
  event: IntegrationEvent,
  seq: number,
  channel: string,
  text: string,
  item: string | null,
  now: number,
];

/**
 * The outbox call for an alert. Identical alerts (same channel, same text) share an ordering key,
 * so the deliverer finds them together; a repeat of one delivered less than a minute ago is held
 * until that minute is over.
 */
export async function alertCall(
  outbox: Pick<AsyncOutbox, 'lastDeliveredAt'>,
  ...alert: AlertArgs
): Promise<OutboxMessageInput> {
  const orderingKey = alertOrderingKey(alert);
  return alertMessage(orderingKey, await outbox.lastDeliveredAt('slack', orderingKey), alert);
}

function alertOrderingKey([, , channel, text]: AlertArgs): string {
  const digest = createHash('sha256').update(text).digest('hex').slice(0, 24);
  return `${ALERT_LANE}${channel}:${digest}`;
}

function alertMessage(
  orderingKey: string,
  last: string | null,
  [event, seq, channel, text, item, now]: AlertArgs,
): OutboxMessageInput {
  const heldUntil = last ? Date.parse(last) + ALERT_COLLAPSE_MS : 0;
  const payload: AlertPayload = { channel, text, item };
  return {
    target: 'slack',
    kind: 'chat.postMessage',
    idempotencyKey: `slack:notify:${event}:${seq}`,
    orderingKey,
    payload,
    ...(heldUntil > now ? { notBefore: new Date(heldUntil) } : {}),
  };
}

/**
 * The one message for an alert that came due and every identical alert pending with it, and the
 * outbox ids it stands for.
 */
export async function gatherAlerts(
  outbox: Pick<AsyncOutbox, 'pendingWith'>,
  message: OutboxMessage,
): Promise<{ args: { channel: string; text: string }; ids: number[] }> {
  const gathered = await outbox.pendingWith('slack', message.orderingKey);
  const all = gathered.some((m) => m.id === message.id) ? gathered : [message, ...gathered];
  const { channel, text } = message.payload as AlertPayload;
  if (all.length === 1) return { args: { channel, text }, ids: [message.id] };
  const items = [...new Set(all.map((m) => (m.payload as AlertPayload).item).filter((i) => i !== null))];
  const listed = items.slice(0, LISTED).map((i) => escapeMrkdwn(String(i)));
  if (items.length > LISTED) listed.push(`and ${items.length - LISTED} more`);
  const list = listed.length ? ` (${listed.join(', ')})` : '';
  return { args: { channel, text: `${text} — ×${all.length}${list}` }, ids: all.map((m) => m.id) };
}
