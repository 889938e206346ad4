/** Slack's requests reach a listener only signed and well formed. */

import { describe, expect, it } from 'vitest';
import { sqliteOf } from '../../src/app/open-runtime.js';
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
      dbOf(sqliteOf(s.service.runtime))
        .prepare("SELECT type FROM ledger_entries WHERE actor = 'slack'")
        .all() as {
        type: string;
      }[]
    ).map((r) => r.type);
    expect(types).toEqual(['api.refused']);
  });

  it('a flood of forged requests writes one entry with its source, not one per request', async () => {
    const body = commandBody('list', 'UADMIN');
    for (let i = 0; i < 40; i++) {
      const res = await postSlack(s.service.port, body, slackHeaders(body, undefined, `forged-${i}`));
      expect(res.status).toBe(401);
    }
    const rows = dbOf(sqliteOf(s.service.runtime))
      .prepare("SELECT payload FROM ledger_entries WHERE type = 'api.refused' AND actor = 'slack'")
      .pluck()
      .all() as string[];
    // The first of the source's minute at once; the rest counted, and written with their count
    // when the minute is over.
    expect(rows.map((r) => JSON.parse(r))).toEqual([
      expect.objectContaining({ path: '/slack/events', status: 401, count: 1, source: '127.0.0.1' }),
    ]);
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
