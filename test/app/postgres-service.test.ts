/**
 * `agov serve` on PostgreSQL (DATABASE_URL): the service runs on the shared ledger, and two
 * replicas on one database and one Redis share the work without doubling it. GitHub is nock at
 * its documented paths; PostgreSQL and Redis are private servers this file starts and stops.
 */
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunningService } from '../../src/app/service.js';
import type { PostgresLedger } from '../../src/ledger/postgres/postgres-ledger.js';
import { decisionsAsync } from '../../src/ledger/queries/decisions.js';
import { tempDir } from '../helpers/agov.js';
import { agentPullRequest, examplePayload, postWebhook } from '../helpers/github.js';
import { PrivatePostgres } from '../helpers/postgres-server.js';
import { PrivateRedis } from '../helpers/redis-server.js';
import { github, startWith } from '../helpers/slack-service.js';

const ORG = `
agents:
  - { id: builder-bot, tier: T2, owner: olivia, github_logins: ["builder-bot[bot]"] }
approvers:
  - { github: alice, slack: UALICE }
`;
const POLICY = 'gates: {}\n';
// Replicas share one signing key: the one the ledger pins.
const KEY_PEM = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

let pg: PrivatePostgres;
let redis: PrivateRedis;
const running: RunningService[] = [];
beforeAll(async () => {
  [pg, redis] = await Promise.all([PrivatePostgres.start(), PrivateRedis.start()]);
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
});
afterAll(async () => {
  nock.enableNetConnect();
  await Promise.all([pg?.stop(), redis?.stop()]);
});
afterEach(async () => {
  for (const s of running.splice(0)) await s.stop();
  nock.cleanAll();
});

async function replica(env: Record<string, string>): Promise<RunningService> {
  const service = await startWith(ORG, { dir: tempDir(), env: { LEDGER_SIGNING_KEY: KEY_PEM, ...env } });
  running.push(service);
  return service;
}

describe('agov serve on PostgreSQL', () => {
  it('refuses a replica that signs with another key than the one the ledger pinned', async () => {
    const url = await pg.createDatabase();
    const first = await replica({ DATABASE_URL: url, REDIS_URL: redis.url });
    await first.runtime.governance.checkpoints.create();
    await expect(
      startWith(ORG, { dir: tempDir(), env: { DATABASE_URL: url, REDIS_URL: redis.url } }),
    ).rejects.toThrow(/not the key pinned in the ledger/);
  });

  it('decides an agent PR from the shared ledger: one decision, one check run, a chain that verifies', async () => {
    const url = await pg.createDatabase();
    const service = await replica({ DATABASE_URL: url });
    expect(service.runtime.engine).toBe('postgres');
    const sha = 'e'.repeat(40);
    const gh = github(POLICY, undefined, sha);
    const pr = agentPullRequest('opened', { sha, login: 'builder-bot[bot]' });
    expect((await postWebhook(service.port, 'pull_request', pr, { deliveryId: 'pg-1' })).status).toBe(202);
    expect((await postWebhook(service.port, 'pull_request', pr, { deliveryId: 'pg-1' })).status).toBe(200);
    await service.github!.drain();
    // package.json changed: the default gate asks alice.
    expect(gh.checks.at(-1)).toMatchObject({ status: 'completed', conclusion: 'action_required' });
    expect(gh.calls.filter((c) => c.startsWith('POST'))).toHaveLength(1);
    const latest = await decisionsAsync.latestDecision(
      service.runtime.store.reader,
      pr.repository.full_name,
      pr.number,
    );
    expect(latest).toMatchObject({ headSha: sha, outcome: 'require_approval' });
    expect(await service.runtime.verify()).toMatchObject({ ok: true });
  });
});

describe('agov serve when PostgreSQL restarts', () => {
  it('a connection in use when the server stops does not take the service down; once it is back, deliveries are decided again', async () => {
    const url = await pg.createDatabase();
    const service = await replica({ DATABASE_URL: url });
    const store = service.runtime.store as PostgresLedger;
    const sha = 'f'.repeat(40);
    const gh = github(POLICY, undefined, sha);
    // A connection checked out of the pool and between two queries (as inside a decision) when the
    // server stops: node-postgres emits an error on it, which must not be the process's last word.
    await store.withClient(async (client) => {
      await client.query('SELECT 1');
      await pg.crash();
      await new Promise((r) => setTimeout(r, 300));
    });
    const pr = agentPullRequest('opened', { sha, login: 'builder-bot[bot]' });
    const during = await postWebhook(service.port, 'pull_request', pr, { deliveryId: 'pg-down-1' });
    expect(during.status).toBeGreaterThanOrEqual(500);
    await pg.restart();
    expect((await postWebhook(service.port, 'pull_request', pr, { deliveryId: 'pg-down-1' })).status).toBe(
      202,
    );
    await service.github!.drain();
    expect(gh.checks.at(-1)).toMatchObject({ status: 'completed', conclusion: 'action_required' });
    expect(await service.runtime.verify()).toMatchObject({ ok: true });
  });
});

describe('two replicas on one PostgreSQL ledger and one Redis', () => {
  it('a policy changed by a push one replica receives decides the next PR on the other (no hour on the old one)', async () => {
    const url = await pg.createDatabase();
    const [a, b] = [
      await replica({ DATABASE_URL: url, REDIS_URL: redis.url }),
      await replica({ DATABASE_URL: url, REDIS_URL: redis.url }),
    ];
    const [first, second] = ['1'.repeat(40), '2'.repeat(40)];
    const gh = github(
      POLICY,
      [
        {
          filename: 'docs/a.md',
          status: 'modified',
          additions: 1,
          deletions: 0,
          changes: 1,
          patch: '@@ -1 +1 @@\n+x',
        },
      ],
      first,
    );
    const opened = agentPullRequest('opened', { sha: first, login: 'builder-bot[bot]' });
    expect((await postWebhook(b.port, 'pull_request', opened)).status).toBe(202);
    await b.github!.drain();
    expect(gh.checks.at(-1)).toMatchObject({ status: 'completed', conclusion: 'success' });

    // The security team makes every change wait for alice; GitHub tells replica A.
    gh.setPolicy(
      'rules:\n  protected_paths: { paths: ["docs/**"], action: require_approval, gate: docs }\ngates:\n  docs: { approvals: 1, approvers: [alice] }\n',
    );
    const push = examplePayload('push', undefined as never);
    push.installation = { id: 1 };
    push.repository = opened.repository;
    push.ref = `refs/heads/${opened.repository.default_branch}`;
    push.commits = [
      {
        id: 'f'.repeat(40),
        message: 'Tighten',
        added: [],
        removed: [],
        modified: ['.github/agent-governance.yml'],
      },
    ];
    expect((await postWebhook(a.port, 'push', push)).status).toBe(202);
    await a.github!.drain();

    // The agent pushes again; replica B gets it and judges it by the new policy.
    const synchronized = agentPullRequest('synchronize', { sha: second, login: 'builder-bot[bot]' });
    synchronized.before = first;
    synchronized.after = second;
    expect((await postWebhook(b.port, 'pull_request', synchronized)).status).toBe(202);
    await b.github!.drain();
    expect(gh.checks.at(-1)).toMatchObject({
      head_sha: second,
      status: 'completed',
      conclusion: 'action_required',
    });
  });

  it('refuses a second replica when either of the two keeps its state in its own process (no REDIS_URL); starts once the first stopped', async () => {
    const refusal = /serves this PostgreSQL ledger; several replicas need the same REDIS_URL on every one/;
    const url = await pg.createDatabase();
    const env = (extra: Record<string, string>) => ({
      DATABASE_URL: url,
      LEDGER_SIGNING_KEY: KEY_PEM,
      ...extra,
    });
    const shared = await replica({ DATABASE_URL: url, REDIS_URL: redis.url });
    await expect(startWith(ORG, { dir: tempDir(), env: env({}) })).rejects.toThrow(refusal);
    await shared.stop();
    running.splice(running.indexOf(shared), 1);
    const alone = await replica({ DATABASE_URL: url });
    await expect(startWith(ORG, { dir: tempDir(), env: env({ REDIS_URL: redis.url }) })).rejects.toThrow(
      refusal,
    );
    await alone.stop();
    running.splice(running.indexOf(alone), 1);
    expect((await replica({ DATABASE_URL: url })).runtime.engine).toBe('postgres');
  });

  it('refuses a replica on another database, or on a SQLite file, beside them on the same Redis', async () => {
    const [one, two] = [await pg.createDatabase(), await pg.createDatabase()];
    await replica({ DATABASE_URL: one, REDIS_URL: redis.url });
    await expect(
      startWith(ORG, {
        dir: tempDir(),
        env: { DATABASE_URL: two, REDIS_URL: redis.url, LEDGER_SIGNING_KEY: KEY_PEM },
      }),
    ).rejects.toThrow(/another replica \(.+ledger postgres:.+\) uses this state store/);
    await expect(startWith(ORG, { dir: tempDir(), env: { REDIS_URL: redis.url } })).rejects.toThrow(
      /another replica \(.+ledger postgres:.+\) uses this state store/,
    );
  });

  // Replicas compare the ledger's own identity, not the URL: a query string (`?port=`) can point one
  // URL at another server, and one database has many spellings.
  it('takes the same database reached by another spelling of its URL as the same ledger', async () => {
    const url = await pg.createDatabase();
    const first = await replica({ DATABASE_URL: url, REDIS_URL: redis.url });
    const other = new URL(url);
    other.protocol = 'postgresql:';
    other.hostname = 'localhost';
    const second = await replica({ DATABASE_URL: other.toString(), REDIS_URL: redis.url });
    expect(second.runtime.ledgerId).toBe(first.runtime.ledgerId);
  });

  it('share the deliveries: each PR decided once, each check run created once, one chain that verifies', async () => {
    const url = await pg.createDatabase();
    const env = { DATABASE_URL: url, REDIS_URL: redis.url, LEDGER_PATH: join(tempDir(), 'unused.db') };
    const [a, b] = [await replica(env), await replica(env)];
    const gh = github(POLICY);
    const prs = Array.from({ length: 40 }, (_, i) => {
      const sha = (i + 1).toString(16).padStart(40, '0');
      const pr = agentPullRequest('opened', { sha, login: 'builder-bot[bot]' });
      pr.pull_request.number = 100 + i;
      pr.number = 100 + i;
      return pr;
    });
    // Each delivery to one replica, and half of them redelivered to the other.
    await Promise.all(
      prs.map(async (pr, i) => {
        const [first, second] = i % 2 ? [a, b] : [b, a];
        await postWebhook(first.port, 'pull_request', pr, { deliveryId: `d-${i}` });
        if (i % 4 < 2) await postWebhook(second.port, 'pull_request', pr, { deliveryId: `d-${i}` });
      }),
    );
    await Promise.all([a.github!.drain(30_000), b.github!.drain(30_000)]);
    const reader = a.runtime.store.reader;
    for (const pr of prs) {
      const rows = await reader.all<{ n: number }>(
        'SELECT COUNT(*) AS n FROM decisions WHERE repository = ? AND number = ?',
        [pr.repository.full_name, pr.number],
      );
      expect(Number(rows[0]!.n), `PR #${pr.number}`).toBe(1);
    }
    const created = gh.calls.filter((c) => c.startsWith('POST'));
    expect(created).toHaveLength(40);
    expect(new Set(gh.checks.filter((c) => c.head_sha).map((c) => c.head_sha)).size).toBe(40);
    expect(await b.runtime.verify()).toMatchObject({ ok: true });
  });
});
