import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sqliteOf } from '../../../src/app/open-runtime.js';
import { type RunningService, startService } from '../../../src/app/service.js';
import { AgentApiError, AgentClient } from '../../../src/client/index.js';
import { readEnv } from '../../../src/config/read-env.js';
import { dbOf } from '../../../src/ledger/ledger.js';
import { createLogger } from '../../../src/platform/logger.js';
import { agovAsync, tempDir } from '../../helpers/agov.js';
import { fillDisk } from '../../helpers/full-disk.js';
import { PrivateRedis } from '../../helpers/redis-server.js';
import { commandBody, postSlack, SLACK_SECRET } from '../../helpers/slack.js';

const ORG = `
slack:
  admins: [UADMIN]
agent_api: { lock_scope: agent }
`;

let service: RunningService | null = null;
let undo: (() => void) | null = null;
let redis: PrivateRedis | null = null;
afterEach(async () => {
  undo?.();
  undo = null;
  await service?.stop();
  service = null;
});
afterAll(async () => {
  await redis?.stop();
});

interface Setup {
  ledgerPath: string;
  config: string;
  env: ReturnType<typeof readEnv>;
}

function setup(redisUrl?: string): Setup {
  const dir = tempDir();
  const config = join(dir, 'agent-governance.yml');
  writeFileSync(config, ORG);
  const ledgerPath = join(dir, 'dbOf(ledger)');
  const env = readEnv({
    LEDGER_PATH: ledgerPath,
    GOVERNANCE_CONFIG: config,
    REDIS_URL: redisUrl,
    PORT: '0',
    HOST: '127.0.0.1',
    HEALTH_PROBE_INTERVAL_MS: '600000',
    CHECKPOINT_INTERVAL_MINUTES: '0',
    SLACK_SIGNING_SECRET: SLACK_SECRET,
    SLACK_BOT_TOKEN: 'xoxb-test-token',
    // Slack's Web API is nowhere: alerts wait in the outbox; commands come in signed over HTTP.
    SLACK_API_URL: 'http://127.0.0.1:9/api/',
  });
  return { ledgerPath, config, env };
}

async function agent(id: string) {
  const { token } = await service!.runtime.governance.registerAgent({ id, tier: 'T2' }, 'admin');
  return new AgentClient({ baseUrl: `http://127.0.0.1:${service!.port}`, token });
}

async function refusal(call: Promise<unknown>): Promise<{ status: number; code: string }> {
  try {
    await call;
  } catch (error) {
    if (error instanceof AgentApiError) return { status: error.status, code: error.code };
    throw error;
  }
  throw new Error('the call was not refused');
}

function entries(type: string, agentId: string): { ts: string; payload: any }[] {
  return dbOf(sqliteOf(service!.runtime))
    .prepare('SELECT ts, payload FROM ledger_entries WHERE type = ? AND agent_id = ? ORDER BY seq')
    .all(type, agentId)
    .map((r: any) => ({ ts: r.ts, payload: JSON.parse(r.payload) }));
}

async function slash(text: string): Promise<string> {
  const res = await postSlack(service!.port, commandBody(text, 'UADMIN'));
  expect(res.status).toBe(200);
  return ((await res.json()) as { text: string }).text;
}

describe('with the ledger unwritable (a full disk)', () => {
  it('/agent revoke and /agent pause from Slack hold at once, and reach the ledger once, with their time, when it can be written', async () => {
    const s = setup();
    service = await startService(s.env, createLogger('silent'));
    const rogue = await agent('rogue-bot');
    const calm = await agent('calm-bot');
    expect((await rogue.preflight({ action: 'push', repository: 'acme/web' })).decision).toBe('allow');

    undo = fillDisk(s.ledgerPath);
    const before = new Date().toISOString();
    expect(await slash('revoke rogue-bot leaked a deploy key')).toMatch(
      /^Revoked `rogue-bot` \(rev-rogue-bot-q[0-9a-f]{8}\) at once/,
    );
    expect(await slash('pause calm-bot')).toMatch(/^`calm-bot` paused at once/);
    const after = new Date().toISOString();

    // In force now, with nothing in the ledger yet: the state store says so, and so does the API.
    expect(await service.runtime.state.getRevokeSignal('rogue-bot')).toMatchObject({
      reason: 'leaked a deploy key',
    });
    expect(await refusal(rogue.acquireLock(60))).toEqual({ status: 403, code: 'agent_not_active' });
    expect(await refusal(calm.acquireLock(60))).toEqual({ status: 403, code: 'agent_not_active' });
    expect(entries('revocation.requested', 'rogue-bot')).toEqual([]);
    // The journal beside the ledger is private.
    expect(statSync(`${s.ledgerPath}.safety-journal`).mode & 0o777).toBe(0o600);
    // An upkeep tick while the disk is still full records nothing and loses nothing.
    await service.maintenance();
    expect(entries('revocation.requested', 'rogue-bot')).toEqual([]);

    undo();
    undo = null;
    // Before the journal is replayed, a state store rebuilt from the ledger still holds both.
    await service.runtime.governance.restoreState();
    const deny = await rogue.preflight({ action: 'read', repository: 'acme/web' });
    expect(deny.decision).toBe('deny');
    expect(deny.reasons.join(' ')).toMatch(/revoked/);
    expect((await calm.preflight({ action: 'read', repository: 'acme/web' })).decision).toBe('deny');

    await service.maintenance();
    await service.maintenance();
    const requested = entries('revocation.requested', 'rogue-bot');
    expect(requested).toHaveLength(1);
    expect(requested[0]!.payload).toMatchObject({
      revocationId: expect.stringMatching(/^rev-rogue-bot-q[0-9a-f]{8}$/),
      reason: 'leaked a deploy key',
    });
    const at = requested[0]!.payload.requestedAt as string;
    expect(at >= before && at <= after).toBe(true);
    expect(requested[0]!.ts > at).toBe(true);
    expect(entries('agent.status_changed', 'rogue-bot').map((e) => e.payload)).toEqual([
      expect.objectContaining({ from: 'active', to: 'revoked', requestedAt: at }),
    ]);
    expect(entries('agent.status_changed', 'calm-bot').map((e) => e.payload)).toEqual([
      expect.objectContaining({ from: 'active', to: 'suspended', requestedAt: expect.any(String) }),
    ]);
    expect(entries('revocation.effect', 'rogue-bot').map((e) => e.payload.effect)).toContain('revoke_signal');

    // A restart replays the journal again: nothing is appended twice.
    const ledgerPath = s.ledgerPath;
    await service.stop();
    service = await startService(s.env, createLogger('silent'));
    expect(entries('revocation.requested', 'rogue-bot')).toHaveLength(1);
    expect(entries('agent.status_changed', 'calm-bot')).toHaveLength(1);
    expect(ledgerPath).toBe(service.runtime.env.LEDGER_PATH);
  });

  it('a lock is refused with 503 and granted to nobody, not even in the state store', async () => {
    const s = setup();
    service = await startService(s.env, createLogger('silent'));
    const locker = await agent('lock-bot');
    undo = fillDisk(s.ledgerPath);
    expect(await refusal(locker.acquireLock(60))).toEqual({ status: 503, code: 'unavailable' });
    expect(await service.runtime.state.getLock('exec:agent:lock-bot')).toBeNull();
    undo();
    undo = null;
    const lock = await locker.acquireLock(60);
    expect(lock.lockKey).toBe('exec:agent:lock-bot');
    expect(
      entries('execution.lock', 'lock-bot').map((e) => [e.payload.op, e.payload.token === lock.fencingToken]),
    ).toEqual([['acquired', true]]);
  });
});

describe('agov agents revoke with the ledger unwritable', () => {
  beforeAll(async () => {
    redis = await PrivateRedis.start();
  });

  it('takes effect at once through the shared state store and is recorded once, with its time, later', async () => {
    const s = setup(redis!.url);
    service = await startService(s.env, createLogger('silent'));
    const rogue = await agent('cli-bot');
    expect((await rogue.preflight({ action: 'push', repository: 'acme/web' })).decision).toBe('allow');

    // The CLI inherits the limit: neither process can commit to the ledger.
    undo = fillDisk(s.ledgerPath);
    const before = new Date().toISOString();
    const r = await agovAsync(
      ['agents', 'revoke', 'cli-bot', '--reason', 'gone rogue', '--actor', 'olivia'],
      {
        LEDGER_PATH: s.ledgerPath,
        GOVERNANCE_CONFIG: s.config,
        REDIS_URL: redis!.url,
      },
    );
    const after = new Date().toISOString();
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^revoked cli-bot \(rev-cli-bot-q[0-9a-f]{8}\) at once in the state store\n/);
    expect(await refusal(rogue.acquireLock(60))).toEqual({ status: 403, code: 'agent_not_active' });
    undo();
    undo = null;
    // Denied before the service has replayed anything: the signal is in the shared store.
    const deny = await rogue.preflight({ action: 'read', repository: 'acme/web' });
    expect(deny.decision).toBe('deny');
    expect(entries('revocation.requested', 'cli-bot')).toEqual([]);

    await service.maintenance();
    await service.maintenance();
    const requested = entries('revocation.requested', 'cli-bot');
    expect(requested).toHaveLength(1);
    const at = requested[0]!.payload.requestedAt as string;
    expect(at >= before && at <= after).toBe(true);
    expect(
      entries('agent.status_changed', 'cli-bot').map((e) => [e.payload.to, e.payload.requestedAt]),
    ).toEqual([['revoked', at]]);
  });
});
