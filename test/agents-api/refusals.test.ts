/** Refusals of the agent API over HTTP, and the document that describes its calls. */

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sqliteOf } from '../../src/app/open-runtime.js';
import type { RunningService } from '../../src/app/service.js';
import { PrivateRedis } from '../helpers/redis-server.js';
import { startAgentApiService } from './agent-api-service.js';

let redis: PrivateRedis;
let service: RunningService | null = null;
beforeAll(async () => {
  redis = await PrivateRedis.start();
});
afterAll(async () => {
  await redis?.stop();
});
afterEach(async () => {
  await service?.stop();
  service = null;
});

async function start() {
  const api = await startAgentApiService({
    config: 'agent_api: { lock_scope: repo, heartbeat_ttl_seconds: 1 }\n',
    redisUrl: redis.url,
    env: { HEALTH_PROBE_INTERVAL_MS: '200' },
  });
  service = api.service;
  return api;
}

describe('refusals', () => {
  it('answers 401, 403 and 400 with a clear JSON error and records nothing but the refusal', async () => {
    const { base, register } = await start();
    const a = await register('agent-a');
    const b = await register('agent-b');
    const before = sqliteOf(service!.runtime).head().seq;
    const post = (body: unknown, token?: string, raw?: string) =>
      fetch(`${base}/api/v1/preflight`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: raw ?? JSON.stringify(body),
      });

    const none = await post({ action: 'read', repository: 'acme/web' });
    expect(none.status).toBe(401);
    expect(await none.json()).toEqual({
      error: 'unauthenticated',
      message: 'send the agent token as Authorization: Bearer <token>',
    });
    const forged = await post(
      { action: 'read', repository: 'acme/web' },
      'agov_agent-a_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
    );
    expect(forged.status).toBe(401);
    const other = await post({ agent: 'agent-a', action: 'read', repository: 'acme/web' }, b.token);
    expect(other.status).toBe(403);
    expect(await other.json()).toEqual({
      error: 'wrong_agent',
      message: 'this token belongs to agent-b; it cannot act as agent-a',
    });
    const malformed = await post(null, a.token, '{"action": "read", ');
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toEqual({ error: 'bad_json', message: 'the body is not JSON' });
    const wrongShape = await post({ action: 'launch_missiles', repository: 'acme/web' }, a.token);
    expect(wrongShape.status).toBe(400);
    expect(((await wrongShape.json()) as any).message).toMatch(
      /^action: Invalid option: expected one of "read"\|"open_pr"/,
    );

    const after = sqliteOf(service!.runtime).entriesAfter(before);
    // Refusals without a valid token are written once a minute per source address, with the count:
    // the second 401 is counted and waits for the end of the minute.
    expect(after.map((e) => [e.type, e.agentId, (e.payload as { status: number }).status])).toEqual([
      ['api.refused', null, 401],
      ['api.refused', 'agent-b', 403],
      ['api.refused', 'agent-a', 400],
      ['api.refused', 'agent-a', 400],
    ]);
    expect(await service!.runtime.state.getLock('exec:agent:agent-a')).toBeNull();
  });
});

describe('the OpenAPI document', () => {
  it('serves the OpenAPI document generated from the schemas', async () => {
    const { base } = await start();
    const doc: any = await (await fetch(`${base}/api/v1/openapi.json`)).json();
    expect(Object.keys(doc.paths)).toEqual([
      '/preflight',
      '/locks',
      '/locks/extend',
      '/locks/release',
      '/heartbeats',
      '/events',
      '/vault/token',
      '/checkpoints',
    ]);
    expect(
      doc.paths['/preflight'].post.requestBody.content['application/json'].schema.properties.action.enum,
    ).toContain('deploy');
  });
});
