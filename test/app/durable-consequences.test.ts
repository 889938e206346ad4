/**
 * Consequences follow from the ledger, not from the process that wrote it (issue 13). Two defects
 * of the in-memory callbacks: a revocation made with the CLI while the server was down was never
 * alerted, and a process killed right after a critical violation committed left the kill switch
 * half done (status revoked; open PR checks, Vault and the alert never followed).
 */

import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sqliteOf } from '../../src/app/open-runtime.js';
import type { RunningService } from '../../src/app/service.js';
import { dbOf, openLedger } from '../../src/ledger/ledger.js';
import { agov, tempDir } from '../helpers/agov.js';
import { agentPullRequest, postWebhook } from '../helpers/github.js';
import { REPO } from '../helpers/github-reads.js';
import { github, slackApi, startWith } from '../helpers/slack-service.js';

const VAULT = 'http://vault.test:8200';
const ORG = `
agents:
  - { id: builder-bot, tier: T2, owner: olivia, github_logins: ["builder-bot[bot]"] }
approvers:
  - { github: alice, slack: UALICE }
slack:
  approvals_channel: C0APPROVALS
  notify: { agent_revoked: C0AGENTS }
`;
const POLICY = 'gates: {}\n';
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

const revokedAlerts = (calls: { method: string; body: any }[]) =>
  calls.filter((c) => c.method === 'chat.postMessage' && String(c.body.text).includes('was revoked'));

/** Follows the ledger and delivers until nothing is pending for GitHub, Slack and Vault. */
async function settle(s: RunningService): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await s.followLedger();
    await s.github?.drain();
    await s.vault?.deliverer.pump.runNow();
    await s.slack?.deliver();
  }
}

describe('a revocation made with the CLI while the server is down', () => {
  it('is alerted in Slack once the server starts, exactly once, across a second restart', async () => {
    const dir = tempDir();
    // The server registers the configured agents, then goes down.
    service = await startWith(ORG, { dir });
    await service.stop();
    service = null;
    const env = { LEDGER_PATH: join(dir, 'ledger.db'), GOVERNANCE_CONFIG: join(dir, 'org.yml') };
    const revoked = agov(
      ['agents', 'revoke', 'builder-bot', '--reason', 'leaked a key', '--actor', 'carol'],
      env,
    );
    expect(revoked.stderr).toBe('');
    expect(revoked.stdout).toMatch(/^revoked builder-bot/);

    const calls = slackApi();
    service = await startWith(ORG, { dir });
    await settle(service);
    expect(revokedAlerts(calls).map((c) => [c.body.channel, c.body.text])).toEqual([
      ['C0AGENTS', ':rotating_light: `builder-bot` was revoked by carol: leaked a key'],
    ]);
    await service.stop();

    service = await startWith(ORG, { dir });
    await settle(service);
    expect(revokedAlerts(calls)).toHaveLength(1);
  });
});

describe('a process killed right after a critical violation committed', () => {
  it('leaves a kill switch the next start completes: checks failed, Vault revoked, alert posted, each once, confirmed', async () => {
    const dir = tempDir();
    const vaultEnv = { VAULT_ADDR: VAULT, VAULT_TOKEN: 'hvs.root-token' };
    // builder-bot has an open PR waiting for approval (check run 700).
    service = await startWith(ORG, { dir, env: vaultEnv });
    const gh = github(POLICY, undefined, 'b'.repeat(40));
    await postWebhook(
      service.port,
      'pull_request',
      agentPullRequest('opened', { sha: 'b'.repeat(40), login: 'builder-bot[bot]' }),
    );
    await service.github!.drain();
    expect(gh.checks.at(-1)).toMatchObject({ status: 'completed', conclusion: 'action_required' });
    await service.stop();
    service = null;
    nock.cleanAll();

    // Another process records a critical violation and dies the moment it has committed.
    const script = `
      const { openRuntime } = await import(${JSON.stringify(resolve('dist/src/app/open-runtime.js'))});
      const { readEnv } = await import(${JSON.stringify(resolve('dist/src/config/read-env.js'))});
      const rt = await openRuntime(readEnv(process.env), { stateStore: 'env' });
      await rt.governance.restoreState();
      await rt.governance.recordViolation('builder-bot',
        { type: 'secret_exposure', details: 'pushed a cloud key' }, 'scan:1', 'scanner');
      process.kill(process.pid, 'SIGKILL');
    `;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      env: {
        PATH: process.env.PATH,
        LOG_LEVEL: 'silent',
        LEDGER_PATH: join(dir, 'ledger.db'),
        GOVERNANCE_CONFIG: join(dir, 'org.yml'),
        ...vaultEnv,
      },
      encoding: 'utf8',
    });
    expect(child.signal, child.stderr).toBe('SIGKILL');

    // The next start: GitHub, Slack and Vault answer, and every call is counted.
    const checks: any[] = [];
    nock('https://api.github.com')
      .persist()
      .post('/app/installations/1/access_tokens')
      .reply(201, { token: 'ghs_test', expires_at: '2099-01-01T00:00:00Z' })
      .patch(`${REPO}/check-runs/700`)
      .reply(200, (_u, body: any) => {
        checks.push(body);
        return { id: 700 };
      });
    const calls = slackApi();
    const vaultCalls: string[] = [];
    nock(VAULT)
      .persist()
      .get('/v1/auth/approle/role/agent-builder-bot/secret-id')
      .query({ list: '1' })
      .reply(() => {
        vaultCalls.push('list');
        return [404, { errors: [] }];
      });
    service = await startWith(ORG, { dir, env: vaultEnv });
    await settle(service);

    expect(checks.map((c) => [c.conclusion, c.output.title])).toEqual([
      ['failure', expect.stringMatching(/revoked/i)],
    ]);
    expect(revokedAlerts(calls)).toHaveLength(1);
    expect(await service.revocations.status('builder-bot')).toMatchObject({
      confirmed: true,
      effects: { revoke_signal: 'held', vault: 'held', [`check:${'Codertocat/Hello-World'}#2`]: 'held' },
    });
    const vaultAfterFirst = vaultCalls.length;
    expect(vaultAfterFirst).toBeGreaterThan(0);

    // Nothing is done twice: not by this server, nor by the next start.
    await settle(service);
    await service.stop();
    service = await startWith(ORG, { dir, env: vaultEnv });
    await settle(service);
    expect(checks).toHaveLength(1);
    expect(revokedAlerts(calls)).toHaveLength(1);
    expect(vaultCalls).toHaveLength(vaultAfterFirst);
    const types = sqliteOf(service.runtime)
      .entriesAfter(0, 10_000)
      .map((e) => e.type)
      .filter((t) => t.startsWith('revocation.'));
    expect(types.filter((t) => t === 'revocation.requested')).toHaveLength(1);
    expect(types.filter((t) => t === 'revocation.confirmed')).toHaveLength(1);
  });
});

describe('the kill switch the follower completes', () => {
  async function withOpenPr() {
    const dir = tempDir();
    service = await startWith(ORG, { dir });
    const gh = github(POLICY, undefined, 'c'.repeat(40));
    await postWebhook(
      service.port,
      'pull_request',
      agentPullRequest('opened', { sha: 'c'.repeat(40), login: 'builder-bot[bot]' }),
    );
    await service.github!.drain();
    return gh;
  }
  const requests = () =>
    sqliteOf(service!.runtime)
      .entriesAfter(0, 10_000)
      .filter((e) => e.type === 'revocation.requested');
  const failures = (gh: { checks: any[] }) => gh.checks.filter((c) => c.conclusion === 'failure');

  it('is not applied to an agent reinstated before it ran: its checks stay as they are', async () => {
    const gh = await withOpenPr();
    const revoke = { from: 'active', to: 'revoked', reason: 'secret_exposure: a key' } as const;
    const reinstate = { from: 'revoked', to: 'active', reason: 'reinstated by carol' } as const;
    // Recorded by another process, and reinstated, before any server followed the revocation.
    sqliteOf(service!.runtime).appendAll([
      { type: 'agent.status_changed', agentId: 'builder-bot', actor: 'scanner', payload: revoke },
      { type: 'agent.status_changed', agentId: 'builder-bot', actor: 'carol', payload: reinstate },
    ]);
    await settle(service!);
    expect(requests()).toEqual([]);
    expect(failures(gh)).toEqual([]);
  });

  it('is done once however the follower is moved: back over it, or past it', async () => {
    const gh = await withOpenPr();
    const db = dbOf(sqliteOf(service!.runtime));
    const position = (seq: number) =>
      db.prepare("UPDATE follower_positions SET seq = ? WHERE name = 'consequences'").run(seq);
    // Moved past a revocation before it was followed: the kill switch is still completed.
    const [change] = sqliteOf(service!.runtime).appendAll([
      {
        type: 'agent.status_changed',
        agentId: 'builder-bot',
        actor: 'scanner',
        payload: { from: 'active', to: 'revoked', reason: 'secret_exposure: a key' },
      },
    ]);
    position(sqliteOf(service!.runtime).head().seq);
    await settle(service!);
    expect(requests().map((e) => (e.payload as { revocationId: string }).revocationId)).toEqual([
      `rev-builder-bot-${change!.seq}`,
    ]);
    expect(failures(gh)).toHaveLength(1);
    // Moved back over it: nothing is requested or sent again.
    position(change!.seq - 1);
    await settle(service!);
    expect(requests()).toHaveLength(1);
    expect(failures(gh)).toHaveLength(1);
  });
});

describe('calls a killed process had claimed', () => {
  it('go out at the next start, not once their lease runs out: the replica takes back its own claims', async () => {
    const dir = tempDir();
    service = await startWith(ORG, { dir });
    await service.stop();
    service = null;
    // The process was killed holding the revocation's Slack alert: claimed under its name, for long.
    const env = { LEDGER_PATH: join(dir, 'ledger.db'), GOVERNANCE_CONFIG: join(dir, 'org.yml') };
    expect(
      agov(['agents', 'revoke', 'builder-bot', '--reason', 'leaked a key', '--actor', 'carol'], env).stderr,
    ).toBe('');
    const calls = slackApi();
    service = await startWith(ORG, { dir });
    await service.followLedger();
    const claimer = `${service.runtime.governance.claimer}:slack`;
    await service.stop();
    service = null;
    const ledger = openLedger(join(dir, 'ledger.db'));
    const held = dbOf(ledger)
      .prepare(
        "UPDATE outbox SET claimed_by = ?, lease_until = '2099-01-01T00:00:00.000Z' WHERE target = 'slack' AND status = 'pending'",
      )
      .run(claimer).changes;
    ledger.close();
    expect(held).toBeGreaterThan(0);
    service = await startWith(ORG, { dir });
    await settle(service);
    expect(revokedAlerts(calls)).toHaveLength(1);
  });
});
