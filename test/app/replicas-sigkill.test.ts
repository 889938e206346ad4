/**
 * Two `agov serve` processes on one PostgreSQL ledger and one Redis, behind what a load balancer
 * does (deliveries spread over both; GitHub redelivering, with the same id, what got no 2xx), one
 * of them SIGKILLed in the middle and started again, while an approver clicks Approve in Slack on
 * both: every delivery is decided once, every vote counted once, every check run created once, and
 * the chain verifies. GitHub and Slack are loopback stand-ins; PostgreSQL and
 * Redis are private servers. Runs the built service (`npm run build` first, as `npm test` does).
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApprovals } from '../../src/chaos/approver-loop.js';
import { freePort, PrivateRedis } from '../../src/chaos/private-redis.js';
import { SpawnedService } from '../../src/chaos/spawned-service.js';
import { GithubStandIn } from '../../src/demo/github-stand-in.js';
import { SlackStandIn } from '../../src/demo/slack-stand-in.js';
import { STAND_IN_POLICY, standInEnv } from '../../src/demo/stand-in-env.js';
import { clickApprove, deliverPullRequest } from '../../src/demo/stand-in-requests.js';
import { openPostgresLedger } from '../../src/ledger/postgres/postgres-ledger.js';
import { PrivatePostgres } from '../helpers/postgres-server.js';

const SECRET = 'replicas-webhook-secret';
const DELIVERIES = 500;
const SLACK_SECRET = 'replicas-slack-secret';
/** 200 of the 500 PRs change a protected path: alice must approve each in Slack. */
const isProtected = (n: number) => n % 5 === 0 || n % 5 === 2;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let pg: PrivatePostgres;
let redis: PrivateRedis;
let github: GithubStandIn;
let slack: SlackStandIn;
beforeAll(async () => {
  [pg, redis, github, slack] = await Promise.all([
    PrivatePostgres.start(),
    PrivateRedis.start(),
    new GithubStandIn().start(),
    new SlackStandIn().start(),
  ]);
  github.policy = STAND_IN_POLICY;
});
afterAll(async () => {
  await Promise.all([pg?.stop(), redis?.stop(), github?.stop(), slack?.stop()]);
});

describe('two replicas on PostgreSQL, one SIGKILLed in the middle', () => {
  it(`decide each of ${DELIVERIES} agent PR deliveries once, count each of 200 Slack votes once, create each check run once; the chain verifies`, async () => {
    const url = await pg.createDatabase();
    const dir = mkdtempSync(join(tmpdir(), 'agov-replicas-'));
    const config = join(dir, 'org.yml');
    const agents = ['alpha', 'beta', 'gamma', 'delta'];
    writeFileSync(
      config,
      `agents:\n${agents.map((id) => `  - { id: ${id}, tier: T2, owner: olivia, github_logins: ["${id}[bot]"] }`).join('\n')}\napprovers: [{ github: alice, slack: UALICE }]\nslack: { approvals_channel: C0APPROVALS }\n`,
    );
    const key = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const shared = {
      ...standInEnv(github, slack, { webhook: SECRET, slack: SLACK_SECRET }),
      DATABASE_URL: url,
      REDIS_URL: redis.url,
      GOVERNANCE_CONFIG: config,
      LEDGER_SIGNING_KEY: key,
      PERIODIC_LEASE_MS: '1000',
      HEALTH_PROBE_INTERVAL_MS: '250',
    };
    const replicas = await Promise.all(
      ['a', 'b'].map(async (name) => {
        const port = await freePort();
        const env = { ...shared, PORT: String(port), LEDGER_PATH: join(dir, name, 'ledger.db') };
        return { base: `http://127.0.0.1:${port}`, service: new SpawnedService(env), up: true };
      }),
    );
    const [a, b] = replicas as [(typeof replicas)[0], (typeof replicas)[0]];
    await a.service.start();
    await b.service.start();
    for (let n = 1; n <= DELIVERIES; n++)
      github.pulls.set(n, {
        number: n,
        title: `Change ${n}`,
        author: `${agents[n % agents.length]}[bot]`,
        headSha: n.toString(16).padStart(40, '0'),
        files: [
          isProtected(n)
            ? { filename: `docs/legal/terms-${n}.md`, patch: '@@ -1 +1,2 @@\n x\n+clause' }
            : { filename: `docs/page-${n}.md`, patch: '@@ -1 +1,2 @@\n x\n+words' },
        ],
      });
    // The load balancer: each delivery to the next replica that is up; no 2xx, GitHub sends it again.
    let turn = 0;
    const deliver = async (n: number) => {
      for (let attempt = 0; attempt < 200; attempt++) {
        const target = replicas[turn++ % 2]!;
        if (target.up) {
          const res = await deliverPullRequest(
            target.base,
            SECRET,
            github.pullRequestPayload(n),
            `d-${n}`,
          ).catch(() => null);
          if (res && res.status < 300) return;
        }
        await sleep(20);
      }
      throw new Error(`delivery d-${n} was never accepted`);
    };
    const sending = (async () => {
      for (let n = 1; n <= DELIVERIES; n += 10)
        await Promise.all(Array.from({ length: 10 }, (_, i) => deliver(n + i)));
    })();
    // alice approves each request in Slack, every click sent to both replicas (a double click, a
    // retried request): each vote must count once. She clicks while the PRs still arrive and while
    // replica A is killed and started again.
    const clicked = new Set<string>();
    const deadline = Date.now() + 120_000;
    const approvals = () => [...github.pulls.values()].filter((pr) => isProtected(pr.number));
    const approving = (async () => {
      while (clicked.size < approvals().length && Date.now() < deadline) {
        for (const key of openApprovals(slack)) {
          if (clicked.has(key)) continue;
          clicked.add(key);
          for (const target of [a, b])
            if (target.up)
              await clickApprove(target.base, SLACK_SECRET, 'UALICE', key).catch(() => undefined);
        }
        await sleep(100);
      }
    })();
    // In the middle: replica A is killed with nothing flushed, and started again a little later.
    while (github.checkRuns.length < DELIVERIES / 4) await sleep(20);
    a.up = false;
    await a.service.kill();
    await sleep(1500);
    await a.service.start();
    a.up = true;
    await sending;
    await approving;
    expect(clicked.size).toBe(approvals().length);
    const done = () =>
      [...github.pulls.values()].every((pr) => {
        const check = github.checkOn(pr.headSha);
        return check?.status === 'completed' && (!isProtected(pr.number) || check.conclusion === 'success');
      });
    while (!done() && Date.now() < deadline) await sleep(100);
    const stillWaiting = approvals().filter((pr) => github.checkOn(pr.headSha)?.conclusion !== 'success');
    await Promise.all([a.service.stop(), b.service.stop()]);

    expect(
      [...github.pulls.values()].filter((pr) => github.checkOn(pr.headSha)?.status !== 'completed'),
    ).toEqual([]);
    expect(stillWaiting.map((pr) => pr.number)).toEqual([]);
    const created = new Map<string, number>();
    for (const c of github.checkRuns)
      if (c.created) created.set(c.headSha, (created.get(c.headSha) ?? 0) + 1);
    expect([...created.values()].filter((n) => n !== 1)).toEqual([]);
    expect(created.size).toBe(DELIVERIES);
    const ledger = await openPostgresLedger(url);
    try {
      const rows = await ledger.reader.all<{ number: number; n: number }>(
        'SELECT number, COUNT(*) AS n FROM decisions GROUP BY number HAVING COUNT(*) <> 1',
      );
      // Each PR decided once: by its delivery, or by a sweep that met it first, never both; a
      // protected one once more, when alice's vote settled it.
      expect(rows.filter((r) => Number(r.n) !== (isProtected(r.number) ? 2 : 1))).toEqual([]);
      const votes = await ledger.reader.all<{ number: number; n: number }>(
        "SELECT number, COUNT(*) AS n FROM approvals WHERE approver = 'alice' GROUP BY number",
      );
      expect(votes.filter((v) => Number(v.n) !== 1)).toEqual([]);
      expect(votes.map((v) => v.number).toSorted((x, y) => x - y)).toEqual(
        approvals().map((pr) => pr.number),
      );
      const decided = await ledger.reader.get<{ n: number }>(
        'SELECT COUNT(DISTINCT number) AS n FROM decisions',
      );
      expect(Number(decided!.n)).toBe(DELIVERIES);
      const inbox = await ledger.reader.get<{ n: number }>(
        "SELECT COUNT(*) AS n FROM inbox WHERE status <> 'done'",
      );
      expect(Number(inbox!.n)).toBe(0);
      expect(await ledger.verifyLedger()).toMatchObject({ ok: true });
    } finally {
      await ledger.close();
    }
  }, 180_000);
});
