import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sqliteOf } from '../../src/app/open-runtime.js';
import { type RunningService, startService } from '../../src/app/service.js';
import { AgentClient } from '../../src/client/index.js';
import { readEnv } from '../../src/config/read-env.js';
import { dbOf } from '../../src/ledger/ledger.js';
import { ManualClock } from '../../src/platform/clock.js';
import { createLogger } from '../../src/platform/logger.js';
import { tempDir } from '../helpers/agov.js';
import { PrivateRedis } from '../helpers/redis-server.js';

const APPROVERS = Array.from({ length: 20 }, (_, i) => `approver-${i}`);
const CONFIG = `
approvers: [${APPROVERS.map((a) => `{ github: ${a} }`).join(', ')}]
promotion:
  thresholds:
    T2: { min_merged_prs: 0, min_days_at_tier: 0, clean_days: 0 }
    T3: { min_merged_prs: 0, min_days_at_tier: 0, clean_days: 0 }
budgets: { limit: 10, window_hours: 24, charges: { low: 4 }, recovery: window }
`;

let redis: PrivateRedis;
const services: RunningService[] = [];
beforeAll(async () => {
  redis = await PrivateRedis.start();
});
afterAll(async () => {
  await redis?.stop();
});
afterEach(async () => {
  for (const s of services.splice(0)) await s.stop();
});

async function start(ledgerPath = join(tempDir(), 'dbOf(ledger)'), redisUrl?: string, clock?: ManualClock) {
  const config = join(tempDir(), 'org.yml');
  writeFileSync(config, CONFIG);
  const service = await startService(
    readEnv({
      LEDGER_PATH: ledgerPath,
      REDIS_URL: redisUrl,
      GOVERNANCE_CONFIG: config,
      PORT: '0',
      HOST: '127.0.0.1',
      HEALTH_PROBE_INTERVAL_MS: '600000',
    }),
    createLogger('silent'),
    clock ? { clock } : {},
  );
  services.push(service);
  return service;
}

const count = (s: RunningService, type: string) =>
  (
    dbOf(sqliteOf(s.runtime))
      .prepare('SELECT COUNT(*) AS n FROM ledger_entries WHERE type = ?')
      .get(type) as {
      n: number;
    }
  ).n;

describe('one promotion at a time', () => {
  it('twenty concurrent approvals apply one tier change', async () => {
    const s = await start();
    await s.runtime.governance.registerAgent({ id: 'climber', tier: 'T2', owner: 'olivia' }, 'admin');
    const request = await s.promotions.request('climber', 'admin', { kind: 'promotion' });
    expect(request).toMatchObject({ from: 'T2', to: 'T3', required: 2 });
    const results = await Promise.allSettled(
      APPROVERS.map((a) => s.promotions.vote(request.promotionId, a, 'approve')),
    );
    const applied = results.filter((r) => r.status === 'fulfilled' && r.value.outcome === 'applied');
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
    expect(applied).toHaveLength(1);
    expect(
      results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.code),
    ).toEqual(Array(18).fill('promotion_decided'));
    expect(count(s, 'agent.tier_changed')).toBe(1);
    expect(await s.runtime.state.getAgent('climber')).toMatchObject({ tier: 'T3' });
  });

  it('two concurrent requests open one, an approval twice counts once, and tiers are never skipped', async () => {
    const s = await start();
    await s.runtime.governance.registerAgent({ id: 'eager', tier: 'T1' }, 'admin');
    const both = await Promise.allSettled([
      s.promotions.request('eager', 'admin', { kind: 'promotion' }),
      s.promotions.request('eager', 'admin', { kind: 'promotion' }),
    ]);
    expect(both.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect((both.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason.message).toMatch(
      /already has promotion promo-eager-\d+ waiting/,
    );
    await expect(s.promotions.request('eager', 'admin', { kind: 'demotion' })).rejects.toThrow(
      /one at a time/,
    );
    const pending = (await s.promotions.pendingFor('eager'))!;
    await expect(s.promotions.request('other', 'admin', { kind: 'promotion' })).rejects.toThrow(
      /no agent "other"/,
    );
    await s.promotions.vote(pending.promotionId, 'approver-1', 'approve');
    await expect(s.promotions.vote(pending.promotionId, 'approver-1', 'approve')).rejects.toThrow(
      /was already applied/,
    );
    await expect(s.promotions.request('eager', 'admin', { kind: 'promotion', to: 'T4' })).rejects.toThrow(
      /a promotion goes to T3, one tier at a time/,
    );
    await expect(s.promotions.vote(pending.promotionId, 'eager', 'approve')).rejects.toThrow();
  });

  it('refuses a promotion the record has not earned, with the reasons', async () => {
    const s = await start();
    await s.runtime.governance.registerAgent({ id: 'newbie', tier: 'T3' }, 'admin');
    await expect(s.promotions.request('newbie', 'admin', { kind: 'promotion' })).rejects.toThrow(
      /newbie is not eligible for T4: 0 merged PRs at T3, needs 50; 0\.0 days at T3, needs 90/,
    );
  });
});

describe('error budgets', () => {
  it('suspends the agent on the charge that exhausts its budget, and resumes it when the window recovers', async () => {
    const clock = new ManualClock(Date.now());
    const s = await start(undefined, undefined, clock);
    const g = s.runtime.governance;
    await g.registerAgent({ id: 'flaky', tier: 'T2' }, 'admin');
    for (const n of [1, 2, 3])
      await g.recordViolation('flaky', { type: 'ci_failure', details: `red ${n}` }, `ci:${n}`, 'github');
    const violations = dbOf(sqliteOf(s.runtime))
      .prepare('SELECT type, budget_charge FROM violations ORDER BY seq')
      .all();
    expect(violations).toEqual([
      { type: 'ci_failure', budget_charge: 4 },
      { type: 'ci_failure', budget_charge: 4 },
      { type: 'ci_failure', budget_charge: 4 },
      { type: 'error_budget_exhausted', budget_charge: 0 },
    ]);
    expect(await g.state.getAgent('flaky')).toMatchObject({ status: 'suspended' });
    // Nothing changed in the window: still suspended.
    expect(await g.recoverBudgets()).toEqual([]);
    // A day later on the governance clock, the charges left the window.
    clock.advance(25 * 3600_000);
    expect(await g.recoverBudgets()).toEqual(['flaky']);
    expect(await g.state.getAgent('flaky')).toMatchObject({ status: 'active' });
  });
});

describe('across processes sharing one Redis and one ledger', () => {
  it('an agent with a critical violation passes no gate and no preflight from that moment, in any process', async () => {
    const ledgerPath = join(tempDir(), 'dbOf(ledger)');
    const a = await start(ledgerPath, redis.url);
    const b = await start(ledgerPath, redis.url);
    const { token } = await a.runtime.governance.registerAgent({ id: 'leaky', tier: 'T3' }, 'admin');
    const viaB = new AgentClient({ baseUrl: `http://127.0.0.1:${b.port}`, token });
    await b.runtime.governance.syncState();
    expect((await viaB.preflight({ action: 'deploy', repository: 'acme/web' })).decision).toBe('allow');

    await a.runtime.governance.recordViolation(
      'leaky',
      { type: 'secret_exposure', details: 'AWS key in src/config.ts:12' },
      'github:acme/web#7@abc',
      'github',
    );
    // Process B has not followed the ledger yet: the revoke signal in the shared Redis is enough.
    const denied = await viaB.preflight({ action: 'read', repository: 'acme/web' });
    expect(denied.decision).toBe('deny');
    expect(denied.reasons[0]).toMatch(/^revocation: .*secret_exposure: AWS key in src\/config.ts:12$/);
    expect(await b.runtime.state.getAgent('leaky')).toMatchObject({ status: 'revoked' });
    expect(await a.revocations.status('leaky')).toMatchObject({
      effects: { revoke_signal: 'held' },
      confirmed: true,
    });
  });
});
