import { join } from 'node:path';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import type { RunningService } from '../../src/app/service.js';
import { tempDir } from '../helpers/agov.js';
import { examplePayload, githubApi, postWebhook, startGithubService } from '../helpers/github.js';

let service: RunningService | null = null;
beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});
afterAll(() => nock.enableNetConnect());
afterEach(async () => {
  await service?.stop();
  service = null;
  nock.cleanAll();
});

it('a GitHub delivery replayed after a restart is recognised by its id and not stored or processed again', async () => {
  const ledgerPath = join(tempDir(), 'dbOf(ledger)');
  githubApi();
  nock('https://api.github.com').persist().get(/.*/).reply(404, { message: 'Not Found' });
  service = await startGithubService({ ledgerPath });
  const payload = examplePayload('pull_request', 'opened');
  const deliveryId = crypto.randomUUID();
  const first = await postWebhook(service.port, 'pull_request', payload, { deliveryId });
  expect(first.status).toBe(202);

  await service.stop();
  service = await startGithubService({ ledgerPath });
  const replay = await postWebhook(service.port, 'pull_request', payload, { deliveryId });
  expect(replay.status).toBe(200);
  expect(await replay.json()).toEqual({ ok: true, duplicate: true });
  const received = (await service.runtime.store.reader.get(
    "SELECT count(*) AS n FROM ledger_entries WHERE type = 'delivery.received' AND json_extract(payload, '$.deliveryId') = ?",
    [deliveryId],
  )) as { n: number };
  expect(received.n).toBe(1);
});
