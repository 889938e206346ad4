/**
 * A preflight's allow is re-checked against the ledger inside the transaction that records it
 * (on SQLite, the group commit it shares with other appends): a revocation committed by another
 * process while the preflight waits for that commit turns it into a deny.
 */
import { afterEach, expect, it } from 'vitest';
import { sqliteOf } from '../../src/app/open-runtime.js';
import type { RunningService } from '../../src/app/service.js';
import { dbOf, openLedger } from '../../src/ledger/ledger.js';
import { startAgentApiService } from './agent-api-service.js';

let service: RunningService | null = null;
afterEach(async () => {
  await service?.stop();
  service = null;
});

it('a revocation another process commits while the preflight waits for its commit turns the allow into a deny', async () => {
  const api = await startAgentApiService({
    config: '',
    env: { HEALTH_PROBE_INTERVAL_MS: '3600000', CHECKPOINT_INTERVAL_MINUTES: '0' },
  });
  service = api.service;
  const { governance } = service.runtime;
  const { agent } = await governance.registerAgent({ id: 'bot', tier: 'T2', owner: 'olivia' }, 'admin');
  const request = { action: 'read' as const, repository: 'acme/web', paths: [] };
  expect((await service.agentRuntime.preflights.answer(agent, request)).body.decision).toBe('allow');

  // Another process (the CLI, say) on the same ledger file. Its revocation is scheduled for the
  // next turn of the event loop, before the preflight's group commit (queued once the in-process
  // state store has answered, within this turn): after the preflight decided allow from the state
  // store, before its entry is written.
  const other = openLedger(dbOf(sqliteOf(service.runtime)).name);
  try {
    let revokedAt = 0;
    setImmediate(() => {
      revokedAt = other.append({
        type: 'agent.status_changed',
        agentId: 'bot',
        actor: 'carol',
        payload: { from: 'active', to: 'revoked', reason: 'leaked a key' },
      }).seq;
    });
    const { status, body } = await service.agentRuntime.preflights.answer(agent, request);
    expect(status).toBe(200);
    expect(body).toMatchObject({
      decision: 'deny',
      reasons: ['status: agent is revoked (changed while deciding)'],
      seq: revokedAt + 1,
    });
    const [recorded] = await governance.store.entriesAfter(revokedAt);
    expect(recorded).toMatchObject({ type: 'preflight.decided', payload: { decision: 'deny' } });
  } finally {
    other.close();
  }
});
