/**
 * Alerts cannot be drowned or multiplied (issue 12, item 6): revocation and serious violation
 * alerts go out before any other queued Slack message, and one cause is one alert.
 */

import nock from 'nock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sqliteOf } from '../../src/app/open-runtime.js';
import type { RunningService } from '../../src/app/service.js';
import { AgentClient } from '../../src/client/index.js';
import { dbOf } from '../../src/ledger/ledger.js';
import { API, agentPullRequest } from '../helpers/github.js';
import { REPO } from '../helpers/github-reads.js';
import { github, slackApi, startWith } from '../helpers/slack-service.js';

const ORG = `
agents:
  - { id: builder-bot, tier: T2, owner: olivia, github_logins: ["builder-bot[bot]"] }
approvers:
  - { github: alice, slack: UALICE }
slack:
  approvals_channel: C0APPROVALS
  notify: { agent_revoked: C0AGENTS, violation_detected: C0AGENTS, execution_started: C0AGENTS }
`;
let service: RunningService;

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});
afterAll(() => nock.enableNetConnect());
beforeEach(async () => {
  service = await startWith(ORG);
  // The deliverer runs when the test says, so what one run delivers is what the test sees.
  await service.slack!.pump.stop();
});
afterEach(async () => {
  await service.stop();
  nock.cleanAll();
});

const posted = (calls: { method: string; body: any }[]) =>
  calls.filter((c) => c.method === 'chat.postMessage').map((c) => String(c.body.text));

/** Queues what the new entries call for, then runs the deliverer until nothing is due. */
async function deliverAll(): Promise<void> {
  await service.followLedger();
  const outbox = sqliteOf(service.runtime).outbox;
  for (let i = 0; i < 1000 && outbox.dueFor('slack', 1).length > 0; i++) await service.slack!.deliver();
}

describe('the alert lane', () => {
  it('a revocation alert goes out in the next delivery run, ahead of 300 queued messages of a spamming agent', async () => {
    const calls = slackApi();
    const { token } = await service.runtime.governance.registerAgent({ id: 'spammer', tier: 'T2' }, 'admin');
    const client = new AgentClient({ baseUrl: `http://127.0.0.1:${service.port}`, token });
    for (let i = 0; i < 30; i++)
      await Promise.all(Array.from({ length: 10 }, () => client.event('execution_started', { i })));
    // Entries the agent API appended reach the subscribers when the service follows the ledger.
    await service.followLedger();
    await expect.poll(() => sqliteOf(service.runtime).outbox.pendingCount('slack')).toBe(300);
    await service.revocations.revoke('spammer', 'flooding the channel', 'admin');
    await service.followLedger();
    await service.slack!.deliver();
    expect(posted(calls)).toContain(':rotating_light: `spammer` was revoked by admin: flooding the channel');
    // The rest still goes out, in order, behind it.
    expect(sqliteOf(service.runtime).outbox.pendingCount('slack')).toBeGreaterThan(250);
  });
});

describe('one alert per cause', () => {
  it('a reconciliation sweep over 30 open PRs of a revoked agent records one revoked_agent_activity and posts one alert', async () => {
    const calls = slackApi();
    await service.revocations.revoke('builder-bot', 'leaked a token', 'admin');
    const pulls = Array.from({ length: 30 }, (_, i) => {
      const pr = agentPullRequest('opened', {
        sha: (i + 10).toString(16).padStart(40, '0'),
        login: 'builder-bot[bot]',
      }).pull_request;
      return { ...pr, number: 100 + i };
    });
    nock(API)
      .get('/app/installations')
      .query(true)
      .reply(200, [{ id: 1, account: { login: 'Codertocat' } }])
      .get('/installation/repositories')
      .query(true)
      .reply(200, { total_count: 1, repositories: [agentPullRequest().repository] })
      .get(`${REPO}/pulls`)
      .query({ state: 'open', per_page: 100 })
      .reply(200, pulls);
    // After the listing above: this one answers every other read under /repos/.
    github('gates:\n  default: { approvals: 1 }\n');
    expect(await service.github!.reconcile()).toBe(30);
    await service.github!.drain();
    const db = dbOf(sqliteOf(service.runtime));
    // Every PR is still denied and its decision recorded; the finding is recorded once.
    expect(
      db.prepare("SELECT COUNT(*) AS n FROM decisions WHERE outcome = 'deny'").get() as { n: number },
    ).toEqual({ n: 30 });
    expect(
      db
        .prepare(
          "SELECT agent_id, COUNT(*) AS n FROM violations WHERE type = 'revoked_agent_activity' GROUP BY agent_id",
        )
        .all(),
    ).toEqual([{ agent_id: 'builder-bot', n: 1 }]);
    await deliverAll();
    expect(posted(calls).filter((t) => t.includes('revoked_agent_activity'))).toHaveLength(1);
  });

  it('identical alerts queued together go out as one message with the count and the sources', async () => {
    const calls = slackApi();
    const g = service.runtime.governance;
    for (let i = 1; i <= 5; i++)
      await g.recordViolation(
        'builder-bot',
        { type: 'lock_violation', details: 'wrote under a lock it does not hold' },
        `lock:acme/web@${i}`,
        'service',
      );
    await deliverAll();
    const alerts = posted(calls).filter((t) => t.includes('lock_violation'));
    expect(alerts).toEqual([
      ':warning: `builder-bot`: lock_violation (high) — wrote under a lock it does not hold; consequence: suspend' +
        ' — ×5 (lock:acme/web@1, lock:acme/web@2, lock:acme/web@3, lock:acme/web@4, lock:acme/web@5)',
    ]);
    expect(sqliteOf(service.runtime).outbox.pendingCount('slack')).toBe(0);
  });
});
