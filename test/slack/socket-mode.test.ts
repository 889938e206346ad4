import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import nock from 'nock';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { type WebSocket, WebSocketServer } from 'ws';
import { sqliteOf } from '../../src/app/open-runtime.js';
import { type RunningService, startService } from '../../src/app/service.js';
import { readEnv } from '../../src/config/read-env.js';
import { dbOf } from '../../src/ledger/ledger.js';
import { createLogger } from '../../src/platform/logger.js';
import { tempDir } from '../helpers/agov.js';
import { slashCommand } from '../helpers/slack.js';

/**
 * Socket Mode as Slack runs it: `apps.connections.open` with the app-level token names a WebSocket
 * URL; Slack says hello on it, then sends each request as an envelope the app acknowledges with its
 * `envelope_id` (and the response payload). Here the WebSocket end is a local `ws` server.
 */
let wss: WebSocketServer;
let socket: Promise<WebSocket>;
let service: RunningService;
const acks: any[] = [];

beforeEach(async () => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
  wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((r) => wss.once('listening', r));
  const port = (wss.address() as AddressInfo).port;
  socket = new Promise((resolve) =>
    wss.once('connection', (ws) => {
      ws.on('message', (data) => acks.push(JSON.parse(data.toString())));
      ws.send(JSON.stringify({ type: 'hello', num_connections: 1, connection_info: { app_id: 'A0001' } }));
      resolve(ws);
    }),
  );
  nock('https://slack.com', { reqheaders: { authorization: 'Bearer xapp-1-A0001-test' } })
    .post('/api/apps.connections.open')
    .reply(200, { ok: true, url: `ws://127.0.0.1:${port}/link/?ticket=t1` });
  const dir = tempDir();
  writeFileSync(
    join(dir, 'org.yml'),
    'agents:\n  - { id: builder-bot, tier: T2, owner: olivia }\nslack: { admins: [UADMIN] }\n',
  );
  service = await startService(
    readEnv({
      LEDGER_PATH: join(dir, 'dbOf(ledger)'),
      GOVERNANCE_CONFIG: join(dir, 'org.yml'),
      PORT: '0',
      HOST: '127.0.0.1',
      SLACK_APP_TOKEN: 'xapp-1-A0001-test',
      SLACK_BOT_TOKEN: 'xoxb-test-token',
      CHECKPOINT_INTERVAL_MINUTES: '0',
    }),
    createLogger('silent'),
  );
});

afterEach(async () => {
  await service.stop();
  for (const c of wss.clients) c.terminate();
  await new Promise((r) => wss.close(r));
  acks.length = 0;
  nock.cleanAll();
  nock.enableNetConnect();
});

/** Sends an envelope and waits for the app's acknowledgement of it. */
async function send(envelopeId: string, type: string, payload: unknown) {
  const ws = await socket;
  ws.send(JSON.stringify({ envelope_id: envelopeId, type, payload, accepts_response_payload: true }));
  for (let i = 0; i < 100 && !acks.some((a) => a.envelope_id === envelopeId); i++)
    await new Promise((r) => setTimeout(r, 20));
  await service.slack!.receiver.idle();
  return acks.filter((a) => a.envelope_id === envelopeId);
}

it('answers /agent over Socket Mode in the acknowledgement, and runs an admin command once though Slack retries it', async () => {
  const status = await send(
    'env-1',
    'slash_commands',
    slashCommand('status builder-bot', 'UALICE', 'trig-1'),
  );
  expect(status).toHaveLength(1);
  expect(status[0].payload).toMatchObject({ response_type: 'ephemeral' });
  expect(status[0].payload.text).toMatch(/^\*builder-bot\* T2 builder, active\n/);

  const pause = slashCommand('pause builder-bot', 'UADMIN', 'trig-2');
  expect((await send('env-2', 'slash_commands', pause))[0].payload.text).toBe('`builder-bot` paused.');
  // Slack sends the same request again on a new envelope when it missed the acknowledgement.
  expect(await send('env-3', 'slash_commands', pause)).toEqual([{ envelope_id: 'env-3', payload: {} }]);
  const changes = dbOf(sqliteOf(service.runtime))
    .prepare("SELECT actor FROM ledger_entries WHERE type = 'agent.status_changed'")
    .all();
  expect(changes).toEqual([{ actor: 'slack:UADMIN' }]);
});

it('acknowledges a malformed envelope, records the refusal, and refuses HTTP requests while in Socket Mode', async () => {
  const bad = await send('env-9', 'interactive', { type: 'block_actions', user: { id: 'nobody' } });
  expect(bad).toEqual([{ envelope_id: 'env-9', payload: {} }]);
  const http = await fetch(`http://127.0.0.1:${service.port}/slack/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'command=%2Fagent&text=list',
  });
  expect(http.status).toBe(404);
  expect(await http.json()).toMatchObject({ error: 'socket_mode' });
  const refusals = dbOf(sqliteOf(service.runtime))
    .prepare(
      "SELECT json_extract(payload, '$.method') AS method FROM ledger_entries WHERE type = 'api.refused'",
    )
    .all();
  expect(refusals).toEqual([{ method: 'SOCKET' }, { method: 'POST' }]);
});
