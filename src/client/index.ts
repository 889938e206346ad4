/**
 * A small typed client for the agent API. `import { AgentClient } from 'agent-governance/client'`.
 * Non-2xx answers throw an `AgentApiError` with the API's stable code, except preflight, whose
 * deny (including the fail-closed 503) is an answer, not an error.
 */
export type AgentAction =
  | 'read'
  | 'open_pr'
  | 'push'
  | 'run_pipeline'
  | 'read_secret'
  | 'deploy'
  | 'modify_policy';

export interface PreflightAnswer {
  decision: 'allow' | 'deny';
  reasons: string[];
  checks: { check: string; ok: boolean; detail: string }[];
  /** The ledger entry that records this answer. */
  seq: number;
}

export interface Lock {
  fencingToken: number;
  lockKey: string;
  expiresAt: string;
}

export class AgentApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'AgentApiError';
  }
}

export interface AgentClientOptions {
  /** The service's base URL, e.g. https://governance.example.com */
  baseUrl: string;
  /** The token `agov agents add` printed. */
  token: string;
  fetch?: typeof fetch;
}

export class AgentClient {
  private readonly fetch: typeof fetch;

  constructor(private readonly options: AgentClientOptions) {
    this.fetch = options.fetch ?? globalThis.fetch;
  }

  async preflight(request: {
    action: AgentAction;
    repository: string;
    paths?: string[];
  }): Promise<PreflightAnswer> {
    const res = await this.send('POST', '/preflight', request);
    const body = (await res.json()) as PreflightAnswer & { error?: string; message?: string };
    if (res.status === 200 || (res.status === 503 && body.decision === 'deny')) return body;
    throw new AgentApiError(res.status, body.error ?? 'error', body.message ?? `HTTP ${res.status}`);
  }

  acquireLock(ttlSeconds: number, repository?: string): Promise<Lock> {
    return this.call('POST', '/locks', { ttlSeconds, ...(repository ? { repository } : {}) });
  }

  extendLock(lock: Lock, ttlSeconds: number): Promise<Lock> {
    return this.call('POST', '/locks/extend', {
      fencingToken: lock.fencingToken,
      ttlSeconds,
      ...(lock.lockKey ? { lockKey: lock.lockKey } : {}),
    });
  }

  releaseLock(lock: Lock): Promise<{ released: true; lockKey: string }> {
    return this.call('POST', '/locks/release', {
      fencingToken: lock.fencingToken,
      ...(lock.lockKey ? { lockKey: lock.lockKey } : {}),
    });
  }

  heartbeat(): Promise<{ ok: true; validForSeconds: number }> {
    return this.call('POST', '/heartbeats', {});
  }

  event(
    event: 'plan_created' | 'execution_started' | 'execution_complete',
    data: Record<string, unknown> = {},
  ): Promise<{ recorded: true; seq: number }> {
    return this.call('POST', '/events', { event, data });
  }

  /** A short-lived Vault token for this agent's AppRole (its accessor is recorded for revocation). */
  vaultToken(): Promise<{ token: string; accessor: string; ttlSeconds: number }> {
    return this.call('POST', '/vault/token', {});
  }

  saveCheckpoint(state: unknown): Promise<{ saved: true; seq: number; savedAt: string }> {
    return this.call('PUT', '/checkpoints', { state });
  }

  /** The latest saved session state, or null when there is none. */
  async loadCheckpoint<T = unknown>(): Promise<{ seq: number; savedAt: string; state: T } | null> {
    try {
      return await this.call('GET', '/checkpoints');
    } catch (error) {
      if (error instanceof AgentApiError && error.code === 'no_checkpoint') return null;
      throw error;
    }
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.send(method, path, body);
    const json = (await res.json()) as T & { error?: string; message?: string };
    if (!res.ok)
      throw new AgentApiError(res.status, json.error ?? 'error', json.message ?? `HTTP ${res.status}`);
    return json;
  }

  private send(method: string, path: string, body?: unknown): Promise<Response> {
    return this.fetch(`${this.options.baseUrl.replace(/\/$/, '')}/api/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.options.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  }
}
