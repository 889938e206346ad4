import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { sqliteOf } from '../../src/app/open-runtime.js';
import { type RunningService, startService } from '../../src/app/service.js';
import { readEnv } from '../../src/config/read-env.js';
import { createLogger } from '../../src/platform/logger.js';
import { tempDir } from '../helpers/agov.js';
import { PRIVATE_KEY, WEBHOOK_SECRET } from '../helpers/github.js';
import { SLACK_SECRET } from '../helpers/slack.js';

const MB = 1024 * 1024;
let service: RunningService;

beforeEach(async () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'org.yml'), 'approvers: [{ github: alice, slack: UALICE }]\n');
  service = await startService(
    readEnv({
      LEDGER_PATH: join(dir, 'ledger.db'),
      GOVERNANCE_CONFIG: join(dir, 'org.yml'),
      PORT: '0',
      HOST: '127.0.0.1',
      APP_ID: '123',
      PRIVATE_KEY,
      WEBHOOK_SECRET,
      SLACK_SIGNING_SECRET: SLACK_SECRET,
      SLACK_BOT_TOKEN: 'xoxb-test-token',
      HEALTH_PROBE_INTERVAL_MS: '600000',
      CHECKPOINT_INTERVAL_MINUTES: '0',
    }),
    createLogger('silent'),
    { github: { reconcileIntervalMs: 3_600_000 } },
  );
});
afterEach(async () => {
  await service.stop();
});

interface Sent {
  /** What came back, status line first ('' when the connection was reset without an answer). */
  response: string;
  /** Body bytes written before the answer came. */
  sent: number;
}

/**
 * A request written by hand on a socket, as an attacker would: the head, then either a few bytes of
 * a body whose `content-length` promises far more, or a chunked body that goes on until an answer
 * arrives (or `max` bytes). Resolves with the answer, or when the connection closes without one.
 */
function rawPost(
  path: string,
  headers: Record<string, string>,
  body: { declared: number; send?: number } | { chunked: true; max: number },
): Promise<Sent> & { socket: ReturnType<typeof connect> } {
  const socket = connect(service.port, '127.0.0.1');
  const promise = new Promise<Sent>((resolve) => {
    let response = '';
    let sent = 0;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      socket.destroy();
      resolve({ response, sent });
    };
    socket.on('data', (d) => {
      response += d;
      // A whole answer is what a client needs; it then stops sending.
      const [head, rest = ''] = response.split('\r\n\r\n');
      const length = /content-length: (\d+)/i.exec(head!)?.[1];
      if (response.includes('\r\n\r\n') && length && rest.length >= Number(length)) finish();
    });
    socket.on('end', finish);
    socket.on('close', finish);
    socket.on('error', finish);
    socket.on('connect', async () => {
      const head = Object.entries({
        host: '127.0.0.1',
        ...headers,
        ...('declared' in body
          ? { 'content-length': String(body.declared) }
          : { 'transfer-encoding': 'chunked' }),
      })
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join('');
      socket.write(`POST ${path} HTTP/1.1\r\n${head}\r\n`);
      if ('declared' in body) {
        sent = body.send ?? 5;
        socket.write(Buffer.alloc(sent, 'a'));
        return;
      }
      const chunk = Buffer.alloc(64 * 1024, 'a');
      while (!response && !done && sent < body.max) {
        const ok =
          socket.write(`${chunk.length.toString(16)}\r\n`) && socket.write(chunk) && socket.write('\r\n');
        sent += chunk.length;
        await new Promise((r) => (ok ? setImmediate(r) : socket.once('drain', r)));
      }
    });
  });
  return Object.assign(promise, { socket });
}

const github = {
  'x-github-event': 'pull_request',
  'x-github-delivery': 'd-1',
  'x-hub-signature-256': 'sha256=00',
};
const slack = {
  'content-type': 'application/x-www-form-urlencoded',
  'x-slack-request-timestamp': String(Math.floor(Date.now() / 1000)),
  'x-slack-signature': 'v0=00',
};

it('a webhook declaring more than GitHub’s 25 MB is refused with 413 before its body is read; nothing is recorded', async () => {
  const before = sqliteOf(service.runtime).head().seq;
  const r = await rawPost('/api/github/webhooks', github, { declared: 26 * MB });
  expect(r.response).toMatch(/^HTTP\/1\.1 413 /);
  expect(r.response).toContain('"error":"too_large"');
  expect(sqliteOf(service.runtime).head().seq).toBe(before);
});

it('a Slack request declaring more than 1 MB is refused with 413 before its body is read; nothing is recorded', async () => {
  const before = sqliteOf(service.runtime).head().seq;
  const r = await rawPost('/slack/events', slack, { declared: 2 * MB });
  expect(r.response).toMatch(/^HTTP\/1\.1 413 /);
  expect(sqliteOf(service.runtime).head().seq).toBe(before);
});

it('a chunked body past the cap is cut off with 413 while it streams; nothing is recorded', async () => {
  const before = sqliteOf(service.runtime).head().seq;
  const toSlack = await rawPost('/slack/events', slack, { chunked: true, max: 64 * MB });
  expect(toSlack.response).toMatch(/^HTTP\/1\.1 413 /);
  expect(toSlack.sent).toBeLessThan(8 * MB);
  const toGithub = await rawPost('/api/github/webhooks', github, { chunked: true, max: 256 * MB });
  expect(toGithub.response).toMatch(/^HTTP\/1\.1 413 /);
  expect(toGithub.sent).toBeLessThan(64 * MB);
  expect(sqliteOf(service.runtime).head().seq).toBe(before);
});

it('unsigned bodies in memory are bounded by the bytes received; a new request makes a held one give way', async () => {
  const budget = service.slack!.receiver.bodies;
  const sent = MB - 1;
  // Senders that each send all but the last byte of 1 MB, then stall, hold the whole budget...
  const held = Array.from({ length: budget.maxBytes / MB }, () =>
    rawPost('/slack/events', slack, { declared: MB, send: sent }),
  );
  await vi.waitFor(() => expect(budget.reservedBytes).toBe(held.length * sent), {
    timeout: 10_000,
    interval: 20,
  });
  // ...yet the next one is read whole (and refused for its signature, not for the budget)...
  const next = await rawPost('/slack/events', slack, { declared: MB, send: MB });
  expect(next.response).toMatch(/^HTTP\/1\.1 401 /);
  // ...because one held body was cut to make room: its connection closed without an answer.
  expect((await Promise.race(held)).response).toBe('');
  expect(budget.reservedBytes).toBeLessThanOrEqual(budget.maxBytes);
  for (const h of held) h.socket.destroy();
  await Promise.all(held);
  await vi.waitFor(() => expect(budget.reservedBytes).toBe(0), { timeout: 10_000, interval: 20 });
});
