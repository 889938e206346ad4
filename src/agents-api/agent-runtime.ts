import { createHash } from 'node:crypto';
import { type IPolicy, TimeoutStrategy, timeout, wrap } from 'cockatiel';
import type { AgentRecord } from '../core/agent.js';
import type { IntegrationEvent } from '../core/lifecycle.js';
import { tierCapabilities } from '../core/org-config.js';
import { decidePreflight, type PreflightDecision, type PreflightRequest } from '../core/preflight.js';
import { tokenMatches } from '../governance/agent-token.js';
import type { Governance } from '../governance/governance.js';
import {
  agentCredentials,
  latestRevocationId,
  latestSessionCheckpoint,
  saveSessionCheckpoint,
} from '../ledger/queries/agents.js';
import type { Logger } from '../platform/logger.js';
import { createBreaker } from '../platform/resilience.js';
import { vaultRevokeMessage } from '../secrets/vault-deliverer.js';
import type { VaultSecrets } from '../secrets/vault-secrets.js';
import { StateNotRestoredError } from '../state/state-store.js';
import { ApiRefusal, notActive } from './api-refusal.js';
import { ExecutionLocks } from './execution-locks.js';
import { jsonBytes } from './payload-limits.js';

export { ApiRefusal };

/**
 * What agents can do through the API, on behalf of one authenticated agent: preflight, execution
 * locks with fencing tokens, heartbeats, lifecycle events and session checkpoints. Every call to
 * the state store runs behind a timeout and a breaker: when it is down, preflight denies.
 */
export class AgentRuntime {
  /** The state store's breaker, read by the health manager. */
  readonly stateBreaker = createBreaker({ halfOpenAfterMs: 2000, consecutiveFailures: 3 });
  private readonly guard: IPolicy;
  private readonly locks: ExecutionLocks;

  constructor(
    private readonly governance: Governance,
    private readonly logger: Logger,
    private readonly secrets: VaultSecrets | null = null,
  ) {
    this.guard = wrap(timeout(1500, TimeoutStrategy.Aggressive), this.stateBreaker);
    this.locks = new ExecutionLocks({
      governance,
      state: (fn) => this.state(fn),
      requireActive: (agent) => this.requireActive(agent),
    });
  }

  lockKey(agent: AgentRecord, repository: string | undefined): string {
    return this.locks.lockKey(agent, repository);
  }

  acquireLock(agent: AgentRecord, repository: string | undefined, ttlSeconds: number) {
    return this.locks.acquire(agent, repository, ttlSeconds);
  }

  extendLock(agent: AgentRecord, repository: string | undefined, token: number, ttlSeconds: number) {
    return this.locks.extend(agent, repository, token, ttlSeconds);
  }

  releaseLock(agent: AgentRecord, repository: string | undefined, token: number) {
    return this.locks.release(agent, repository, token);
  }

  /** Executions whose heartbeat lapsed become `heartbeat_missed` violations; their locks are freed. */
  sweepHeartbeats(): Promise<string[]> {
    return this.locks.sweepHeartbeats();
  }

  /** The organisation config's `agent_api` section: limits, lock scope, heartbeats. */
  get settings() {
    return this.governance.config.agent_api;
  }

  private state<T>(fn: () => Promise<T>): Promise<T> {
    return this.guard.execute(fn);
  }

  /** The agent a token belongs to, or null. Tokens look like `agov_<id>_<secret>`; only hashes are kept. */
  /**
   * Read from the ledger's projection, not the state store: an agent can still be answered (with a
   * fail-closed deny) while Redis is down.
   */
  async authenticate(token: string): Promise<AgentRecord | null> {
    const id = /^agov_([a-z0-9][a-z0-9-]*)_[A-Za-z0-9_-]{20,}$/.exec(token)?.[1];
    if (!id) return null;
    const found = agentCredentials(this.governance.ledger, id);
    if (!found?.tokenHash || !tokenMatches(token, found.tokenHash)) return null;
    return {
      id,
      name: id,
      owner: null,
      tier: found.tier,
      status: found.status,
      identities: { githubLogins: [], trailers: [] },
      tokenHash: found.tokenHash,
      registeredAt: found.registeredAt,
      tierSince: found.tierSince,
    };
  }

  /**
   * Refuses an agent the ledger does not say is active (as read when its token was checked). Every
   * call but preflight, whose deny is a recorded answer, passes here first: a revoked token stops
   * working everywhere at once, not only where the state store is read.
   */
  async assertActive(agent: AgentRecord): Promise<void> {
    if (agent.status === 'active') return;
    const signal = await this.state(() => this.governance.state.getRevokeSignal(agent.id)).catch(() => null);
    throw notActive(agent.id, signal ? 'revoked' : agent.status, signal?.reason);
  }

  async preflight(
    agent: AgentRecord,
    request: PreflightRequest,
  ): Promise<{ status: number; body: PreflightDecision & { seq: number } }> {
    let decision: PreflightDecision;
    let status = 200;
    try {
      const g = this.governance;
      const windowStart = Date.now() - g.config.budgets.window_hours * 3600_000;
      const [, revokeSignal, fresh, lock, budgetUsed, rate] = await this.state(() =>
        Promise.all([
          this.restored(),
          g.state.getRevokeSignal(agent.id),
          g.state.getAgent(agent.id),
          g.state.getLock(this.lockKey(agent, request.repository)),
          g.state.budgetUsed(agent.id, windowStart),
          g.state.hitRateLimit(`preflight:${agent.id}`, this.settings.preflights_per_minute, 60_000),
        ]),
      );
      const current = fresh ?? agent;
      decision = decidePreflight(request, {
        agent: current,
        revokeSignal,
        capabilities: tierCapabilities(g.config, current.tier),
        lockHeldBy: lock && !lock.holder.startsWith(`${agent.id}:`) ? lock.holder.split(':')[0]! : null,
        budgetUsed,
        budgetLimit: g.config.budgets.limit,
        rateAllowed: rate.allowed,
      });
    } catch (error) {
      // Fail closed: without the revoke signal and the budget, nothing is allowed.
      // The reason is for the agent: what the store said (hosts, ports, scripts) goes to the log.
      status = 503;
      const detail =
        error instanceof StateNotRestoredError ? error.message : 'state store unavailable; try again shortly';
      decision = { decision: 'deny', reasons: [`state_store: ${detail}`], checks: [] };
      this.logger.warn({ agent: agent.id, err: error }, 'preflight denied: state store unavailable');
    }
    // The answer is recorded, and re-checked, inside the ledger's write transaction: a revocation
    // recorded while this preflight was being decided turns an allow into a deny.
    const [entry] = await this.governance.ledger.appendSoon(() => {
      const status = this.governance.statusInLedger(agent.id);
      if (decision.decision === 'allow' && status !== 'active') {
        decision = {
          decision: 'deny',
          reasons: [`status: agent is ${status ?? 'unknown'} (changed while deciding)`],
          checks: decision.checks,
        };
      }
      return [
        {
          type: 'preflight.decided',
          agentId: agent.id,
          actor: agent.id,
          payload: {
            action: request.action,
            repository: request.repository,
            decision: decision.decision,
            reasons: decision.reasons,
          },
        },
      ];
    });
    return { status, body: { ...decision, seq: entry!.seq } };
  }

  async heartbeat(agent: AgentRecord) {
    await this.requireActive(agent);
    await this.state(() =>
      this.governance.state.heartbeat(agent.id, this.settings.heartbeat_ttl_seconds * 1000),
    );
    return { ok: true, validForSeconds: this.settings.heartbeat_ttl_seconds };
  }

  /**
   * Records an agent's lifecycle event. Its data is bounded before the entry joins a group commit,
   * and the agent's status is read again inside the write: a revocation that landed meanwhile wins.
   */
  async lifecycleEvent(agent: AgentRecord, event: IntegrationEvent, data: Record<string, unknown>) {
    const bytes = jsonBytes(data);
    const limit = this.settings.max_event_data_kb * 1024;
    if (bytes > limit) {
      throw new ApiRefusal(413, 'too_large', `event data is ${bytes} bytes; the limit is ${limit}`);
    }
    let status: string | null = 'active';
    const [entry] = await this.governance.ledger.appendSoon(() => {
      status = this.governance.statusInLedger(agent.id);
      if (status !== 'active') return [];
      return [{ type: 'integration.event', agentId: agent.id, actor: agent.id, payload: { event, data } }];
    });
    if (!entry) throw notActive(agent.id, status ?? undefined, undefined);
    return { recorded: true, seq: entry.seq };
  }

  /**
   * A short-lived Vault token for the agent, obtained with its AppRole by the service, which records
   * the token's accessor: that is how a revocation can revoke it later.
   */
  async vaultToken(agent: AgentRecord) {
    if (!this.secrets) throw new ApiRefusal(404, 'vault_off', 'Vault is not configured on this service');
    await this.requireActive(agent);
    const issued = await this.secrets.issueToken(agent.id);
    // Recorded with the agent's status read in the same transaction: a revocation that landed while
    // the token was being issued already ran its Vault part without this accessor.
    let status = 'active';
    const [entry] = await this.governance.ledger.appendSoon(() => {
      status = this.governance.statusInLedger(agent.id) ?? 'unknown';
      return [
        {
          type: 'vault.token_issued',
          agentId: agent.id,
          actor: agent.id,
          payload: { accessor: issued.accessor, ttlSeconds: issued.ttlSeconds },
        },
      ];
    });
    if (status !== 'active') {
      await this.secrets.revokeAccessor(issued.accessor).catch((error: unknown) => {
        // Vault went away in between: the accessor is recorded; a Vault revocation of the agent,
        // retried until it holds, revokes every recorded accessor.
        this.logger.warn(
          { agent: agent.id, err: error },
          'token issued during a revocation; revoking it later',
        );
        const revocationId = latestRevocationId(this.governance.ledger, agent.id);
        if (revocationId)
          this.governance.ledger.outbox.enqueue(
            entry!.seq,
            vaultRevokeMessage(agent.id, revocationId, issued.accessor),
          );
      });
      throw new ApiRefusal(403, 'agent_not_active', `agent ${agent.id} is ${status}: no Vault token`);
    }
    return issued;
  }

  async saveSessionCheckpoint(agent: AgentRecord, state: unknown) {
    const text = JSON.stringify(state);
    const limit = this.settings.max_session_checkpoint_kb * 1024;
    if (Buffer.byteLength(text) > limit) {
      throw new ApiRefusal(
        413,
        'checkpoint_too_large',
        `session state is ${Buffer.byteLength(text)} bytes; the limit is ${limit}`,
      );
    }
    const ledger = this.governance.ledger;
    const entry = ledger.atomically(() => {
      // Read inside the write: a revocation recorded since the token was checked refuses the save.
      const status = this.governance.statusInLedger(agent.id);
      if (status !== 'active') throw notActive(agent.id, status ?? undefined, undefined);
      const e = ledger.append({
        type: 'session.checkpoint_saved',
        agentId: agent.id,
        actor: agent.id,
        payload: { sha256: createHash('sha256').update(text).digest('hex'), bytes: Buffer.byteLength(text) },
      });
      saveSessionCheckpoint(ledger, { seq: e.seq, agentId: agent.id, state: text, savedAt: e.ts });
      return e;
    });
    return { saved: true, seq: entry.seq, savedAt: entry.ts };
  }

  loadSessionCheckpoint(agent: AgentRecord) {
    const saved = latestSessionCheckpoint(this.governance.ledger, agent.id);
    if (!saved)
      throw new ApiRefusal(404, 'no_checkpoint', `agent ${agent.id} has saved no session checkpoint`);
    return saved;
  }

  /** Resolves once the store holds what the ledger says; a store that came back empty is not read. */
  private async restored(): Promise<void> {
    if (!(await this.governance.state.isRestored())) throw new StateNotRestoredError();
  }

  private async requireActive(agent: AgentRecord) {
    const [, signal, current] = await this.state(() =>
      Promise.all([
        this.restored(),
        this.governance.state.getRevokeSignal(agent.id),
        this.governance.state.getAgent(agent.id),
      ]),
    );
    if (signal || current?.status !== 'active') {
      throw notActive(agent.id, signal ? 'revoked' : current?.status, signal?.reason);
    }
  }
}
