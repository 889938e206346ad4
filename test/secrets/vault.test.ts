import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sqliteOf } from '../../src/app/open-runtime.js';
import { type RunningService, startService } from '../../src/app/service.js';
import { AgentClient } from '../../src/client/index.js';
import { readEnv } from '../../src/config/read-env.js';
import { orgConfigSchema } from '../../src/core/org-config.js';
import { dbOf } from '../../src/ledger/ledger.js';
import { createLogger } from '../../src/platform/logger.js';
import { createBreaker } from '../../src/platform/resilience.js';
import { readHealth, VaultSecrets } from '../../src/secrets/vault-secrets.js';
import { tempDir } from '../helpers/agov.js';

const VAULT = 'http://vault.test:8200';
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

const CONFIG = `
approvers: [{ github: alice }, { github: bob }]
promotion:
  thresholds: { T2: { min_merged_prs: 0, min_days_at_tier: 0, clean_days: 0 } }
`;

async function start() {
  const dir = tempDir();
  writeFileSync(join(dir, 'org.yml'), CONFIG);
  service = await startService(
    readEnv({
      LEDGER_PATH: join(dir, 'dbOf(ledger)'),
      GOVERNANCE_CONFIG: join(dir, 'org.yml'),
      PORT: '0',
      HOST: '127.0.0.1',
      VAULT_ADDR: VAULT,
      VAULT_TOKEN: 'hvs.root-token',
      HEALTH_PROBE_INTERVAL_MS: '600000',
    }),
    createLogger('silent'),
    {
      vaultRetry: { initialMs: 20, maxMs: 50 },
      vaultBreaker: createBreaker({ halfOpenAfterMs: 50, consecutiveFailures: 3 }),
    },
  );
  const { token } = await service.runtime.governance.registerAgent(
    { id: 'deploy-bot', tier: 'T1', owner: 'olivia' },
    'admin',
  );
  return new AgentClient({ baseUrl: `http://127.0.0.1:${service.port}`, token });
}

/** Vault issuing deploy-bot a token: role-id, a single-use secret-id, and the AppRole login (after `loginDelayMs`). */
function tokenIssuance(loginDelayMs = 0) {
  nock(VAULT)
    .get('/v1/auth/approle/role/agent-deploy-bot/role-id')
    .reply(200, { data: { role_id: 'role-123' } })
    .post('/v1/auth/approle/role/agent-deploy-bot/secret-id', { num_uses: 1, ttl: '60s' })
    .reply(200, { data: { secret_id: 'sid-1', secret_id_accessor: 'sid-acc-1' } })
    .post('/v1/auth/approle/login', { role_id: 'role-123', secret_id: 'sid-1' })
    .delay(loginDelayMs)
    .reply(200, { auth: { client_token: 'hvs.agent', accessor: 'tok-acc-1', lease_duration: 900 } });
}

const entries = (type: string) =>
  (
    dbOf(sqliteOf(service!.runtime))
      .prepare('SELECT payload FROM ledger_entries WHERE type = ? ORDER BY seq')
      .all(type) as { payload: string }[]
  ).map((r) => JSON.parse(r.payload));

describe('Vault', () => {
  it('reads sys/health status the way Vault means it', () => {
    expect(readHealth({ initialized: true, sealed: false, standby: false })).toEqual({
      state: 'up',
      detail: 'active',
    });
    expect(readHealth({ initialized: true, sealed: true })).toEqual({
      state: 'down',
      detail: 'sealed (503)',
    });
    expect(readHealth({ initialized: false })).toEqual({ state: 'down', detail: 'not initialised (501)' });
    expect(readHealth({ initialized: true, standby: true })).toEqual({
      state: 'degraded',
      detail: 'standby (429)',
    });
    expect(readHealth({ initialized: true, performance_standby: true, standby: true })).toEqual({
      state: 'degraded',
      detail: 'performance standby (473)',
    });
  });

  it('asks sys/health, reads KV v2 and bootstraps policies and roles on the documented paths', async () => {
    const org = orgConfigSchema.parse({});
    const secrets = new VaultSecrets({ addr: VAULT, auth: { kind: 'token', token: 'hvs.root' } }, org);
    const policies: Record<string, string> = {};
    const scope = nock(VAULT, { reqheaders: { 'x-vault-token': 'hvs.root' } })
      .get('/v1/sys/health')
      .reply(503, { initialized: true, sealed: true, standby: true })
      .get('/v1/secret/data/agents/deploy-bot')
      .reply(200, { data: { data: { api_key: 'k' }, metadata: { version: 3 } } })
      .post(/\/v1\/sys\/policies\/acl\/.+/, (body) => typeof body.policy === 'string')
      .times(6)
      .reply(204, (uri, body: any) => {
        policies[uri.split('/').pop()!] = body.policy;
      })
      .get('/v1/sys/auth')
      .reply(200, { data: { 'token/': { type: 'token' } } })
      .post('/v1/sys/auth/approle', { type: 'approle' })
      .reply(204)
      .post('/v1/auth/approle/role/agent-deploy-bot', {
        token_policies: ['t3-executor', 'agent-deploy-bot-own'],
        token_ttl: '15m',
        token_max_ttl: '1h',
        secret_id_ttl: '24h',
      })
      .reply(204);
    expect(await secrets.health()).toEqual({ state: 'down', detail: 'sealed (503)' });
    expect(await secrets.readAgentSecret('deploy-bot')).toEqual({ api_key: 'k' });
    const calls = await secrets.bootstrap([{ id: 'deploy-bot', tier: 'T3' }]);
    expect(scope.isDone()).toBe(true);
    expect(Object.keys(policies).sort()).toEqual([
      'agent-deploy-bot-own',
      't0-observer',
      't1-operator',
      't2-builder',
      't3-executor',
      't4-architect',
    ]);
    expect(policies['t3-executor']).toContain('path "secret/data/inventory/*"');
    expect(policies['t1-operator']).not.toContain('secret/');
    expect(policies['agent-deploy-bot-own']).toContain('path "secret/data/agents/deploy-bot"');
    expect(calls.map((c) => c.op)).toEqual([
      ...Array(5).fill('policy write'),
      'enable auth',
      'policy write',
      'role write',
    ]);
  });

  it('promotion rewrites the agent role policies in Vault, and records the calls', async () => {
    await start();
    const role = nock(VAULT)
      .post('/v1/sys/policies/acl/agent-deploy-bot-own')
      .reply(204)
      .post(
        '/v1/auth/approle/role/agent-deploy-bot',
        (b) => JSON.stringify(b.token_policies) === JSON.stringify(['t2-builder', 'agent-deploy-bot-own']),
      )
      .reply(204);
    const request = await service!.promotions.request('deploy-bot', 'bob', { kind: 'promotion' });
    expect(request).toMatchObject({ from: 'T1', to: 'T2', required: 1, outcome: 'pending' });
    await expect(service!.promotions.vote(request.promotionId, 'bob', 'approve')).rejects.toThrow(
      /nobody approves their own request/,
    );
    await expect(service!.promotions.vote(request.promotionId, 'olivia', 'approve')).rejects.toThrow(
      /owner may not approve this gate/,
    );
    expect(await service!.promotions.vote(request.promotionId, 'alice', 'approve')).toMatchObject({
      outcome: 'applied',
      approvals: ['alice'],
    });
    await service!.vault!.deliverer.pump.runNow();
    expect(role.isDone()).toBe(true);
    expect(entries('vault.calls')).toEqual([
      {
        purpose: request.promotionId,
        calls: [
          {
            op: 'policy write',
            path: 'sys/policies/acl/agent-deploy-bot-own',
            ok: true,
            detail: 'own secrets',
          },
          {
            op: 'role write',
            path: 'auth/approle/role/agent-deploy-bot',
            ok: true,
            detail: 'token_policies t2-builder, agent-deploy-bot-own',
          },
        ],
      },
    ]);
    expect(await service!.runtime.state.getAgent('deploy-bot')).toMatchObject({ tier: 'T2' });
  });

  it('Vault down during a revocation: denied at once, Vault revoked after it returns, and the ledger shows both moments', async () => {
    const agent = await start();
    // The agent takes a Vault token through the service, which records the accessor.
    tokenIssuance();
    const res = await fetch(`http://127.0.0.1:${service!.port}/api/v1/vault/token`, {
      method: 'POST',
      headers: { authorization: `Bearer ${(agent as any).options.token}` },
    });
    expect(await res.json()).toEqual({ token: 'hvs.agent', accessor: 'tok-acc-1', ttlSeconds: 900 });

    // Vault goes down.
    nock(VAULT)
      .get('/v1/auth/approle/role/agent-deploy-bot/secret-id')
      .query({ list: '1' })
      .times(2)
      .reply(503, { errors: ['Vault is sealed'] });
    await service!.revocations.revoke('deploy-bot', 'exfiltrated a token', 'carol');
    expect((await agent.preflight({ action: 'read', repository: 'acme/web' })).reasons[0]).toMatch(
      /^revocation: .* by carol: exfiltrated a token$/,
    );
    await service!.vault!.deliverer.pump.runNow();
    expect(await service!.revocations.status('deploy-bot')).toMatchObject({
      confirmed: false,
      effects: { revoke_signal: 'held', vault: 'failed' },
    });

    // Vault is back.
    const revoke = nock(VAULT)
      .get('/v1/auth/approle/role/agent-deploy-bot/secret-id')
      .query({ list: '1' })
      .reply(200, { data: { keys: ['sid-acc-1'] } })
      .post('/v1/auth/approle/role/agent-deploy-bot/secret-id-accessor/destroy', {
        secret_id_accessor: 'sid-acc-1',
      })
      .reply(204)
      .post('/v1/auth/token/revoke-accessor', { accessor: 'tok-acc-1' })
      .reply(204)
      .get('/v1/auth/approle/role/agent-deploy-bot/secret-id')
      .query({ list: '1' })
      .reply(404, { errors: [] });
    await expect
      .poll(
        async () => {
          await service!.vault!.deliverer.pump.runNow();
          return revoke.isDone();
        },
        { timeout: 5000, interval: 60 },
      )
      .toBe(true);
    expect(await service!.revocations.status('deploy-bot')).toMatchObject({
      confirmed: true,
      effects: { revoke_signal: 'held', vault: 'held' },
    });
    expect(entries('revocation.effect').map((e) => [e.effect, e.ok])).toEqual([
      ['revoke_signal', true],
      ['vault', false],
      ['vault', true],
    ]);
    expect(entries('revocation.confirmed')).toHaveLength(1);
  });

  it('a token issued while its agent is being revoked, with Vault gone before it can be revoked, is queued for revocation against its entry', async () => {
    const agent = await start();
    tokenIssuance(300);
    nock(VAULT)
      .persist()
      .get('/v1/auth/approle/role/agent-deploy-bot/secret-id')
      .query({ list: '1' })
      .reply(404, { errors: [] })
      .post('/v1/auth/token/revoke-accessor')
      .reply(503, { errors: ['Vault is sealed'] });
    const asked = fetch(`http://127.0.0.1:${service!.port}/api/v1/vault/token`, {
      method: 'POST',
      headers: { authorization: `Bearer ${(agent as any).options.token}` },
    });
    await new Promise((r) => setTimeout(r, 100));
    await service!.revocations.revoke('deploy-bot', 'exfiltrated a token', 'carol');
    await service!.vault!.deliverer.pump.runNow();
    const res = await asked;
    expect(res.status).toBe(403);
    expect(await res.text()).not.toContain('hvs.agent');
    const [issued] = dbOf(sqliteOf(service!.runtime))
      .prepare("SELECT seq FROM ledger_entries WHERE type = 'vault.token_issued'")
      .all() as { seq: number }[];
    const queued = await service!.runtime.store.outbox.forEntry(issued!.seq);
    expect(queued.map((m) => [m.target, m.kind, m.idempotencyKey])).toEqual([
      ['vault', 'vault.revoke_agent', expect.stringMatching(/:vault:tok-acc-1$/)],
    ]);
  });

  it('a token issued while its agent is being revoked is revoked at once and never handed over', async () => {
    const agent = await start();
    const revokedAccessors: string[] = [];
    // Vault is slow to log in; the kill switch is thrown meanwhile.
    tokenIssuance(300);
    nock(VAULT)
      .persist()
      .get('/v1/auth/approle/role/agent-deploy-bot/secret-id')
      .query({ list: '1' })
      .reply(404, { errors: [] })
      .post('/v1/auth/token/revoke-accessor')
      .reply(204, (_uri, body: any) => {
        revokedAccessors.push(body.accessor);
        return '';
      });
    const asked = fetch(`http://127.0.0.1:${service!.port}/api/v1/vault/token`, {
      method: 'POST',
      headers: { authorization: `Bearer ${(agent as any).options.token}` },
    });
    await new Promise((r) => setTimeout(r, 100));
    await service!.revocations.revoke('deploy-bot', 'exfiltrated a token', 'carol');
    await service!.vault!.deliverer.pump.runNow(); // the revocation's Vault part, before the login answers
    const res = await asked;
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({
      error: 'agent_not_active',
      message: 'agent deploy-bot is revoked: no Vault token',
    });
    expect(revokedAccessors).toEqual(['tok-acc-1']);
    expect(entries('vault.token_issued')).toEqual([{ accessor: 'tok-acc-1', ttlSeconds: 900 }]);
  });
});
