/**
 * What GitHub and Slack send the service, as they send it (signed), for the demo and the chaos run.
 * The timestamps are the wall clock's: the far ends have their own clocks, and Slack's signature
 * check compares against real time.
 */
import { createHmac } from 'node:crypto';
import { sign } from '@octokit/webhooks-methods';

/** The approval key on a message's Approve button, if it has one (blocks as sent: JSON text or an array). */
export function approveButtonValue(blocks: unknown): string | null {
  const list = typeof blocks === 'string' ? JSON.parse(blocks) : (blocks ?? []);
  for (const b of list as { elements?: { action_id?: string; value?: string }[] }[])
    for (const e of b.elements ?? []) if (e.action_id === 'approval_approve') return e.value ?? null;
  return null;
}

/** Clicks an approval button as Slack would send it: a signed `block_actions` payload. */
export async function clickApprove(
  baseUrl: string,
  signingSecret: string,
  user: string,
  approvalKey: string,
): Promise<Response> {
  const form = new URLSearchParams({
    payload: JSON.stringify({
      type: 'block_actions',
      user: { id: user },
      trigger_id: `click-${Date.now()}`,
      channel: { id: 'C0APPROVALS' },
      actions: [{ action_id: 'approval_approve', value: approvalKey, action_ts: `${Date.now() / 1000}` }],
    }),
  }).toString();
  const ts = Math.floor(Date.now() / 1000);
  return fetch(`${baseUrl}/slack/events`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': String(ts),
      'x-slack-signature': `v0=${createHmac('sha256', signingSecret).update(`v0:${ts}:${form}`).digest('hex')}`,
    },
    body: form,
  });
}

/** Delivers a `pull_request` webhook as GitHub would: signed, with a delivery id. */
export async function deliverPullRequest(
  baseUrl: string,
  secret: string,
  payload: unknown,
  deliveryId: string,
): Promise<Response> {
  const body = JSON.stringify(payload);
  return fetch(`${baseUrl}/api/github/webhooks`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-github-event': 'pull_request',
      'x-github-delivery': deliveryId,
      'x-hub-signature-256': await sign(secret, body),
    },
    body,
  });
}
