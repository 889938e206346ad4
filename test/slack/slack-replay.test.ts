import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { sqliteOf } from '../../src/app/open-runtime.js';
import { type RunningService, startService } from '../../src/app/service.js';
import { readEnv } from '../../src/config/read-env.js';
import { createLogger } from '../../src/platform/logger.js';
import { tempDir } from '../helpers/agov.js';
import { commandBody, postSlack, SLACK_SECRET, slackHeaders } from '../helpers/slack.js';

const ORG = `
agents:
  - { id: builder-bot, tier: T2, owner: olivia }
approvers: [{ github: olivia, slack: UOLIVIA }]
slack:
  admins: [UADMIN]
`;
let service: RunningService | null = null;
afterEach(async () => {
  await service?.stop();
  service = null;
});

/** The service with Slack over HTTP and the default, in-process state store: nothing survives a restart but the ledger. */
function start(dir: string): Promise<RunningService> {
  return startService(
    readEnv({
      LEDGER_PATH: join(dir, 'ledger.db'),
      GOVERNANCE_CONFIG: join(dir, 'org.yml'),
      PORT: '0',
      HOST: '127.0.0.1',
      SLACK_SIGNING_SECRET: SLACK_SECRET,
      SLACK_BOT_TOKEN: 'xoxb-test-token',
      HEALTH_PROBE_INTERVAL_MS: '600000',
      CHECKPOINT_INTERVAL_MINUTES: '0',
    }),
    createLogger('silent'),
  );
}

it('a signed Slack request replayed after a restart, within its 5 minutes, is refused and has no second effect', async () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'org.yml'), ORG);
  service = await start(dir);
  const body = commandBody('demote builder-bot', 'UADMIN');
  const headers = slackHeaders(body);
  const first = await postSlack(service.port, body, headers);
  expect(first.status).toBe(200);
  expect(await service.runtime.state.getAgent('builder-bot')).toMatchObject({ tier: 'T1' });

  await service.stop();
  service = await start(dir);
  const head = sqliteOf(service.runtime).head().seq;
  // The very same bytes and headers, as an eavesdropper or a proxy log would have them.
  const replay = await postSlack(service.port, body, headers);
  expect(replay.status).toBe(401);
  expect(await replay.json()).toMatchObject({ error: 'replayed' });
  // Saying it is a Slack retry gets the answer a retry gets, and no more.
  const retry = await postSlack(service.port, body, { ...headers, 'x-slack-retry-num': '1' });
  expect(retry.status).toBe(200);
  expect(await service.runtime.state.getAgent('builder-bot')).toMatchObject({ tier: 'T1' });
  expect(sqliteOf(service.runtime).head().seq).toBe(head);

  // A new request (new timestamp and signature) is served as ever.
  const again = commandBody('status builder-bot', 'UADMIN');
  expect((await postSlack(service.port, again, slackHeaders(again))).status).toBe(200);
});
