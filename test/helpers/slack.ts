import { createHmac } from 'node:crypto';

export const SLACK_SECRET = 'slack-signing-secret';

export function slackHeaders(
  body: string,
  ts = Math.floor(Date.now() / 1000),
  secret = SLACK_SECRET,
): Record<string, string> {
  return {
    'content-type': 'application/x-www-form-urlencoded',
    'x-slack-request-timestamp': String(ts),
    'x-slack-signature': `v0=${createHmac('sha256', secret).update(`v0:${ts}:${body}`).digest('hex')}`,
  };
}

/** The fields of an `/agent` slash command, as Slack documents them. */
export function slashCommand(text: string, user: string, trigger = `trig-${Math.random()}`) {
  return {
    token: 'deprecated',
    team_id: 'T0001',
    channel_id: 'C0CMD',
    user_id: user,
    command: '/agent',
    text,
    response_url: 'https://hooks.slack.com/commands/T0001/1/x',
    trigger_id: trigger,
    api_app_id: 'A0001',
  };
}

/** A slash command as Slack sends it over HTTP: form-encoded (signed by `slackHeaders`). */
export function commandBody(text: string, user: string, trigger?: string): string {
  return new URLSearchParams(slashCommand(text, user, trigger)).toString();
}

/** A block_actions payload as Slack documents it, for a button click. */
export function buttonBody(
  actionId: string,
  value: string,
  user: string,
  actionTs = `${Date.now() / 1000}`,
): string {
  const payload = {
    type: 'block_actions',
    team: { id: 'T0001', domain: 'acme' },
    user: { id: user, username: user.toLowerCase(), team_id: 'T0001' },
    api_app_id: 'A0001',
    token: 'deprecated',
    container: {
      type: 'message',
      message_ts: '1700000000.000100',
      channel_id: 'C0APPROVALS',
      is_ephemeral: false,
    },
    trigger_id: `trig-${actionTs}`,
    channel: { id: 'C0APPROVALS', name: 'approvals' },
    message: { ts: '1700000000.000100', text: 'Approval needed' },
    response_url: 'https://hooks.slack.com/actions/T0001/1/x',
    actions: [{ action_id: actionId, block_id: 'approval', value, type: 'button', action_ts: actionTs }],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

export function viewSubmissionBody(approvalKey: string, user: string, reason: string): string {
  const payload = {
    type: 'view_submission',
    team: { id: 'T0001', domain: 'acme' },
    user: { id: user, username: user.toLowerCase(), team_id: 'T0001' },
    api_app_id: 'A0001',
    view: {
      id: `V${Math.floor(Math.random() * 1e6)}`,
      hash: '1700000000.abc',
      callback_id: 'approval_reject_reason',
      private_metadata: approvalKey,
      state: { values: { reason: { value: { type: 'plain_text_input', value: reason } } } },
    },
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

export async function postSlack(port: number, body: string, headers = slackHeaders(body)): Promise<Response> {
  return fetch(`http://127.0.0.1:${port}/slack/events`, { method: 'POST', headers, body });
}
