/** Slack's requests reach a listener only signed and well formed. */
import { describe, expect, it } from 'vitest';
import { dbOf } from '../../src/ledger/ledger.js';
import { commandBody, postSlack, slackHeaders } from '../helpers/slack.js';
import { slackSuite } from '../helpers/slack-suite.js';

const s = slackSuite();

describe('signed requests only', () => {
  it.each([
    ['a forged signature', (b: string) => slackHeaders(b, undefined, 'not-the-secret'), 401],
    [
      'a timestamp older than 5 minutes',
      (b: string) => slackHeaders(b, Math.floor(Date.now() / 1000) - 301),
      401,
    ],
    [
      'a timestamp more than 5 minutes ahead',
      (b: string) => slackHeaders(b, Math.floor(Date.now() / 1000) + 360),
      401,
    ],
  ] as const)('refuses %s and records only the refusal', async (_n, headers, status) => {
    const body = commandBody('list', 'UADMIN');
    const res = await postSlack(s.service.port, body, headers(body));
    expect(res.status).toBe(status);
    const types = (
      dbOf(s.service.runtime.ledger)
        .prepare("SELECT type FROM ledger_entries WHERE actor = 'slack'")
        .all() as {
        type: string;
      }[]
    ).map((r) => r.type);
    expect(types).toEqual(['api.refused']);
  });

  it('refuses a malformed payload', async () => {
    const body = new URLSearchParams({ payload: '{"type":"block_actions","user":{}}' }).toString();
    const res = await postSlack(s.service.port, body);
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error).toBe('bad_payload');
  });

  it("answers Slack's URL check", async () => {
    const challenge = JSON.stringify({ type: 'url_verification', challenge: 'abc123', token: 'x' });
    const res = await postSlack(s.service.port, challenge, {
      ...slackHeaders(challenge),
      'content-type': 'application/json',
    });
    expect(await res.json()).toEqual({ challenge: 'abc123' });
  });
});
