/**
 * Signed Slack requests (button clicks and `/agent` slash commands) against the running service,
 * beside a no-op Bolt app (its own HTTPReceiver, listeners that only ack) on the same payloads in
 * the same run. Prints acknowledgements per second and p50/p99 for both, and ends with `ratio: X`
 * (ours over the no-op's). Each side runs in a child process; the client runs here.
 */
import { fork } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const N = Number(process.env.BENCH_REQUESTS ?? 3000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const SECRET = 'bench-slack-secret';

if (process.argv[2] === 'noop') {
  const { App, HTTPReceiver, LogLevel } = await import('@slack/bolt');
  const receiver = new HTTPReceiver({ signingSecret: SECRET, endpoints: '/slack/events' });
  const app = new App({
    receiver,
    authorize: async () => ({ botToken: 'xoxb-bench' }),
    logLevel: LogLevel.ERROR,
  });
  app.command('/agent', async ({ ack }) => ack({ response_type: 'ephemeral', text: 'ok' }));
  app.action('approval_approve', async ({ ack }) => ack());
  const server = createServer(receiver.requestListener);
  server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as AddressInfo).port }));
} else if (process.argv[2] === 'service') {
  const { readEnv } = await import('../src/config/read-env.js');
  const { createLogger } = await import('../src/platform/logger.js');
  const { startService } = await import('../src/app/service.js');
  const dir = mkdtempSync(join(tmpdir(), 'agov-bench-slack-'));
  const config = join(dir, 'org.yml');
  writeFileSync(
    config,
    'agents: [{ id: bench-bot, tier: T2 }]\napprovers: [{ github: alice, slack: UALICE }]\n',
  );
  const service = await startService(
    readEnv({
      ...process.env,
      LEDGER_PATH: join(dir, 'ledger.db'),
      GOVERNANCE_CONFIG: config,
      SLACK_SIGNING_SECRET: SECRET,
      SLACK_BOT_TOKEN: 'xoxb-bench',
      SLACK_API_URL: 'http://127.0.0.1:9/api/',
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
      CHECKPOINT_INTERVAL_MINUTES: '0',
    }),
    createLogger('silent'),
  );
  process.send!({ port: service.port });
} else {
  const bodies = Array.from({ length: N }, (_, i) =>
    i % 2 === 0
      ? new URLSearchParams({
          command: '/agent',
          text: 'status bench-bot',
          user_id: 'UALICE',
          channel_id: 'C1',
          trigger_id: `t${i}`,
          team_id: 'T1',
        }).toString()
      : new URLSearchParams({
          payload: JSON.stringify({
            type: 'block_actions',
            user: { id: 'UALICE' },
            trigger_id: `t${i}`,
            channel: { id: 'C1' },
            actions: [{ action_id: 'approval_approve', value: 'acme/web#1@unknown', action_ts: `${i}.0` }],
          }),
        }).toString(),
  );
  const run = async (mode: string) => {
    const child = fork(fileURLToPath(import.meta.url), [mode], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const { port } = await new Promise<{ port: number }>((resolve) =>
      child.once('message', resolve as never),
    );
    const times: number[] = [];
    let next = 0;
    const start = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < bodies.length) {
          const body = bodies[next++]!;
          const ts = Math.floor(Date.now() / 1000);
          const signature = `v0=${createHmac('sha256', SECRET).update(`v0:${ts}:${body}`).digest('hex')}`;
          const t = performance.now();
          const res = await fetch(`http://127.0.0.1:${port}/slack/events`, {
            method: 'POST',
            headers: {
              'content-type': 'application/x-www-form-urlencoded',
              'x-slack-request-timestamp': String(ts),
              'x-slack-signature': signature,
            },
            body,
          });
          await res.arrayBuffer();
          if (res.status !== 200) throw new Error(`${mode}: HTTP ${res.status}`);
          times.push(performance.now() - t);
        }
      }),
    );
    const seconds = (performance.now() - start) / 1000;
    child.kill();
    const sorted = times.sort((a, b) => a - b);
    return {
      perSecond: Math.round(N / seconds),
      p50: sorted[Math.floor(N * 0.5)]!.toFixed(1),
      p99: sorted[Math.floor(N * 0.99)]!.toFixed(1),
    };
  };
  const baseline = await run('noop');
  const ours = await run('service');
  console.log(
    `requests:                 ${N} (half /agent status, half Approve clicks; concurrency ${CONCURRENCY})`,
  );
  console.log(
    `no-op Bolt acks/s:        ${baseline.perSecond}   p50 ${baseline.p50} ms, p99 ${baseline.p99} ms`,
  );
  console.log(
    `agent-governance acks/s:  ${ours.perSecond}   p50 ${ours.p50} ms, p99 ${ours.p99} ms   (verified, de-duplicated, answered; clicks checked and recorded)`,
  );
  console.log(`ratio: ${(ours.perSecond / baseline.perSecond).toFixed(2)}`);
}
