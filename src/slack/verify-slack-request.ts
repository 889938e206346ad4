import { createHmac, timingSafeEqual } from 'node:crypto';

/** Slack signs `v0:{timestamp}:{raw body}`; requests more than 300 s away (either way) are replays. */
export const MAX_SKEW_SECONDS = 300;

export type SlackVerification = { ok: true } | { ok: false; reason: string };

export function verifySlackRequest(
  secret: string,
  headers: { timestamp: string | undefined; signature: string | undefined },
  body: string,
  nowSeconds: number,
): SlackVerification {
  const ts = Number(headers.timestamp);
  if (!headers.timestamp || !Number.isInteger(ts))
    return { ok: false, reason: 'X-Slack-Request-Timestamp is missing' };
  if (Math.abs(nowSeconds - ts) > MAX_SKEW_SECONDS)
    return { ok: false, reason: 'X-Slack-Request-Timestamp is more than 5 minutes away' };
  if (!headers.signature?.startsWith('v0=')) return { ok: false, reason: 'X-Slack-Signature is missing' };
  const expected = Buffer.from(`v0=${createHmac('sha256', secret).update(`v0:${ts}:${body}`).digest('hex')}`);
  const actual = Buffer.from(headers.signature);
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected))
    return { ok: false, reason: 'X-Slack-Signature does not match' };
  return { ok: true };
}
