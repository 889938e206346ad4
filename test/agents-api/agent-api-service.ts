/** A service with the agent API on a free port, and ways to call it as agents (honest or not) would. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type RunningService, startService } from '../../src/app/service.js';
import { AgentClient } from '../../src/client/index.js';
import { readEnv } from '../../src/config/read-env.js';
import { createLogger, type Logger } from '../../src/platform/logger.js';
import { tempDir } from '../helpers/agov.js';

export interface AgentApiServiceOptions {
  /** The organisation config, as YAML. */
  config: string;
  /** The Redis to use, emptied first; the in-process store when absent. */
  redisUrl?: string;
  /** More environment: probe interval, checkpoints, Slack. */
  env?: Record<string, string>;
  /** Where the service logs (silent when absent). */
  logger?: Logger;
}

export interface AgentApiService {
  service: RunningService;
  base: string;
  /** Registers an agent (owner olivia) and gives its client and token. */
  register(id: string, tier?: 'T1' | 'T2' | 'T3'): Promise<{ client: AgentClient; token: string }>;
  /** A raw call, as a hostile client would make it. */
  call(token: string, method: string, path: string, body?: unknown, raw?: string): Promise<RawAnswer>;
}

export interface RawAnswer {
  status: number;
  body: any;
}

export async function startAgentApiService(options: AgentApiServiceOptions): Promise<AgentApiService> {
  const dir = tempDir();
  const configPath = join(dir, 'agent-governance.yml');
  writeFileSync(configPath, options.config);
  if (options.redisUrl) await emptyRedis(options.redisUrl);
  const service = await startService(
    readEnv({
      LEDGER_PATH: join(dir, 'ledger.db'),
      ...(options.redisUrl ? { REDIS_URL: options.redisUrl } : {}),
      GOVERNANCE_CONFIG: configPath,
      PORT: '0',
      HOST: '127.0.0.1',
      ...options.env,
    }),
    options.logger ?? createLogger('silent'),
  );
  const base = `http://127.0.0.1:${service.port}`;
  const register = async (id: string, tier: 'T1' | 'T2' | 'T3' = 'T2') => {
    const { token } = await service.runtime.governance.registerAgent({ id, tier, owner: 'olivia' }, 'admin');
    return { client: new AgentClient({ baseUrl: base, token }), token };
  };
  const call = async (token: string, method: string, path: string, body?: unknown, raw?: string) => {
    const res = await fetch(`${base}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(raw !== undefined || body !== undefined ? { body: raw ?? JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: (await res.json()) as any };
  };
  return { service, base, register, call };
}

/** FLUSHALL, as a Redis that restarted empty would be. */
export async function emptyRedis(url: string): Promise<void> {
  const { Redis } = await import('ioredis');
  const client = new Redis(url);
  await client.flushall();
  client.disconnect();
}
