import type { CircuitBreakerPolicy } from 'cockatiel';
import vaultFactory from 'node-vault';
import { type OrgConfig, tierCapabilities } from '../core/org-config.js';
import type { TierId } from '../core/tiers.js';
import { createBreaker } from '../platform/resilience.js';
import {
  ALL_TIER_POLICIES,
  agentOwnPolicyName,
  agentOwnPolicyText,
  agentRoleName,
  tierPolicyName,
  tierPolicyText,
} from './tier-policies.js';
import type { VaultConfig } from './vault-config.js';

type NodeVault = ReturnType<typeof vaultFactory>;

export type VaultHealth = { state: 'up' | 'degraded' | 'down'; detail: string };

export interface VaultCall {
  op: string;
  path: string;
  ok: boolean;
  detail: string;
}

/** Vault status by `sys/health` (200 active, 429 standby, 472/473 DR or performance standby, 501 uninitialised, 503 sealed). */
export function readHealth(body: {
  initialized?: boolean;
  sealed?: boolean;
  standby?: boolean;
  performance_standby?: boolean;
  replication_dr_mode?: string;
}): VaultHealth {
  if (body.initialized === false) return { state: 'down', detail: 'not initialised (501)' };
  if (body.sealed) return { state: 'down', detail: 'sealed (503)' };
  if (
    body.replication_dr_mode &&
    body.replication_dr_mode !== 'disabled' &&
    body.replication_dr_mode !== 'primary'
  ) {
    return { state: 'degraded', detail: 'disaster-recovery secondary (472)' };
  }
  if (body.performance_standby) return { state: 'degraded', detail: 'performance standby (473)' };
  if (body.standby) return { state: 'degraded', detail: 'standby (429)' };
  return { state: 'up', detail: 'active' };
}

/**
 * Vault through node-vault: one policy per tier, an AppRole per agent whose token policies follow
 * its tier, tokens issued through the service (so their accessors are known), and revocation that
 * destroys secret-ids and revokes those accessors, then reads back that they are gone. Every call
 * runs behind one circuit breaker.
 */
export class VaultSecrets {
  readonly breaker: CircuitBreakerPolicy;
  private readonly vault: NodeVault;
  private loggedIn = false;

  constructor(
    private readonly config: VaultConfig,
    private readonly org: OrgConfig,
    breaker?: CircuitBreakerPolicy,
  ) {
    // GET ?list=1 instead of the LIST verb: the same Vault API, friendlier to proxies.
    this.vault = vaultFactory({
      endpoint: config.addr,
      apiVersion: 'v1',
      noCustomHTTPVerbs: true,
      ...(config.auth.kind === 'token' ? { token: config.auth.token } : {}),
    });
    this.breaker = breaker ?? createBreaker({ halfOpenAfterMs: 5000, consecutiveFailures: 3 });
  }

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    return this.breaker.execute(async () => {
      await this.login();
      return fn();
    });
  }

  private async login(): Promise<void> {
    if (this.loggedIn || this.config.auth.kind === 'token') return;
    const result = await this.vault.approleLogin({
      role_id: this.config.auth.roleId,
      secret_id: this.config.auth.secretId,
    });
    this.vault.token = result.auth.client_token;
    this.loggedIn = true;
  }

  async health(): Promise<VaultHealth> {
    return readHealth(await this.breaker.execute(() => this.vault.health()));
  }

  /** Writes the tier policies, enables AppRole when needed. Returns what it did. */
  async bootstrap(agents: { id: string; tier: TierId }[]): Promise<VaultCall[]> {
    const calls: VaultCall[] = [];
    for (const { name, tier } of ALL_TIER_POLICIES) {
      await this.call(() => this.vault.write(`sys/policies/acl/${name}`, { policy: tierPolicyText(tier) }));
      calls.push({ op: 'policy write', path: `sys/policies/acl/${name}`, ok: true, detail: `tier ${tier}` });
    }
    const auths = (await this.call(() => this.vault.read('sys/auth'))) as {
      data?: Record<string, unknown>;
    } & Record<string, unknown>;
    const mounts = auths.data ?? auths;
    if (!Object.hasOwn(mounts, 'approle/')) {
      await this.call(() => this.vault.write('sys/auth/approle', { type: 'approle' }));
      calls.push({ op: 'enable auth', path: 'sys/auth/approle', ok: true, detail: 'AppRole enabled' });
    }
    for (const agent of agents) calls.push(...(await this.setAgentTier(agent.id, agent.tier)));
    return calls;
  }

  /** Writes the agent's own policy and its AppRole with the policies of `tier`. Applies at once. */
  async setAgentTier(agentId: string, tier: TierId): Promise<VaultCall[]> {
    const own = tierCapabilities(this.org, tier).vaultReadPaths.some((p) => p.includes('{id}'));
    const policies = [tierPolicyName(tier), ...(own ? [agentOwnPolicyName(agentId)] : [])];
    await this.call(() =>
      this.vault.write(`sys/policies/acl/${agentOwnPolicyName(agentId)}`, {
        policy: agentOwnPolicyText(agentId),
      }),
    );
    await this.call(() =>
      this.vault.write(`auth/approle/role/${agentRoleName(agentId)}`, {
        token_policies: policies,
        token_ttl: '15m',
        token_max_ttl: '1h',
        secret_id_ttl: '24h',
      }),
    );
    return [
      {
        op: 'policy write',
        path: `sys/policies/acl/${agentOwnPolicyName(agentId)}`,
        ok: true,
        detail: 'own secrets',
      },
      {
        op: 'role write',
        path: `auth/approle/role/${agentRoleName(agentId)}`,
        ok: true,
        detail: `token_policies ${policies.join(', ')}`,
      },
    ];
  }

  /** Logs in as the agent's AppRole and returns a short-lived token with its accessor. */
  async issueToken(agentId: string): Promise<{ token: string; accessor: string; ttlSeconds: number }> {
    const role = agentRoleName(agentId);
    const roleId = (await this.call(() => this.vault.read(`auth/approle/role/${role}/role-id`))) as {
      data: { role_id: string };
    };
    // Single use and short-lived: the login below consumes it, so no secret-id outlives the token.
    const secret = (await this.call(() =>
      this.vault.write(`auth/approle/role/${role}/secret-id`, { num_uses: 1, ttl: '60s' }),
    )) as { data: { secret_id: string } };
    const login = (await this.call(() =>
      this.vault.write('auth/approle/login', {
        role_id: roleId.data.role_id,
        secret_id: secret.data.secret_id,
      }),
    )) as { auth: { client_token: string; accessor: string; lease_duration: number } };
    return {
      token: login.auth.client_token,
      accessor: login.auth.accessor,
      ttlSeconds: login.auth.lease_duration,
    };
  }

  /** Revokes one token by its accessor (a token issued as its agent was being revoked). */
  async revokeAccessor(accessor: string): Promise<void> {
    await this.call(() => this.vault.write('auth/token/revoke-accessor', { accessor }));
  }

  /** Destroys every secret-id of the agent's role and revokes the given token accessors, then reads back. */
  async revokeAgent(
    agentId: string,
    accessors: string[],
  ): Promise<{ calls: VaultCall[]; confirmed: boolean }> {
    const role = agentRoleName(agentId);
    const calls: VaultCall[] = [];
    const listed = await this.listSecretIdAccessors(role);
    for (const accessor of listed) {
      await this.call(() =>
        this.vault.write(`auth/approle/role/${role}/secret-id-accessor/destroy`, {
          secret_id_accessor: accessor,
        }),
      );
      calls.push({
        op: 'secret-id destroy',
        path: `auth/approle/role/${role}/secret-id-accessor/destroy`,
        ok: true,
        detail: accessor,
      });
    }
    for (const accessor of accessors) {
      try {
        await this.call(() => this.vault.write('auth/token/revoke-accessor', { accessor }));
        calls.push({ op: 'token revoke', path: 'auth/token/revoke-accessor', ok: true, detail: accessor });
      } catch (error) {
        // An accessor that no longer exists (expired token) is as revoked as it gets.
        if ((error as { response?: { statusCode?: number } }).response?.statusCode !== 400) throw error;
        calls.push({
          op: 'token revoke',
          path: 'auth/token/revoke-accessor',
          ok: true,
          detail: `${accessor} already gone`,
        });
      }
    }
    const remaining = await this.listSecretIdAccessors(role);
    calls.push({
      op: 'read back',
      path: `auth/approle/role/${role}/secret-id`,
      ok: remaining.length === 0,
      detail: `${remaining.length} secret-id(s) left`,
    });
    return { calls, confirmed: remaining.length === 0 };
  }

  async readAgentSecret(agentId: string): Promise<Record<string, unknown> | null> {
    try {
      const r = (await this.call(() => this.vault.read(`secret/data/agents/${agentId}`))) as {
        data: { data: Record<string, unknown> };
      };
      return r.data.data;
    } catch (error) {
      if ((error as { response?: { statusCode?: number } }).response?.statusCode === 404) return null;
      throw error;
    }
  }

  private async listSecretIdAccessors(role: string): Promise<string[]> {
    try {
      const r = (await this.call(() => this.vault.list(`auth/approle/role/${role}/secret-id`))) as {
        data: { keys: string[] };
      };
      return r.data.keys;
    } catch (error) {
      if ((error as { response?: { statusCode?: number } }).response?.statusCode === 404) return [];
      throw error;
    }
  }
}
