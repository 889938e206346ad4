import type { Governance } from '../governance/governance.js';
import type { Logger } from '../platform/logger.js';
import type { VaultSecrets } from '../secrets/vault-secrets.js';
import { AgentAuthenticator } from './agent-authenticator.js';
import { ExecutionLocks } from './execution-locks.js';
import { Heartbeats } from './heartbeats.js';
import { LifecycleEvents } from './lifecycle-events.js';
import { Preflights } from './preflights.js';
import { SessionCheckpoints } from './session-checkpoints.js';
import { StateGuard } from './state-guard.js';
import { VaultTokens } from './vault-tokens.js';

/**
 * What agents can do through the API, one part per job: authentication, preflight, execution
 * locks with fencing tokens, heartbeats, lifecycle events, session checkpoints and Vault tokens.
 * Every call to the state store goes through one guard (a timeout and a breaker): when the store
 * is down, preflight denies.
 */
export class AgentRuntime {
  readonly guard: StateGuard;
  readonly auth: AgentAuthenticator;
  readonly locks: ExecutionLocks;
  readonly preflights: Preflights;
  readonly heartbeats: Heartbeats;
  readonly events: LifecycleEvents;
  readonly checkpoints: SessionCheckpoints;
  readonly vault: VaultTokens;

  constructor(
    private readonly governance: Governance,
    logger: Logger,
    secrets: VaultSecrets | null = null,
  ) {
    this.guard = new StateGuard(governance);
    this.auth = new AgentAuthenticator(governance, this.guard);
    this.locks = new ExecutionLocks(governance, this.guard);
    this.preflights = new Preflights(governance, this.guard, this.locks, logger);
    this.heartbeats = new Heartbeats(governance, this.guard);
    this.events = new LifecycleEvents(governance);
    this.checkpoints = new SessionCheckpoints(governance);
    this.vault = new VaultTokens(governance, this.guard, secrets, logger);
  }

  /** The state store's breaker, read by the health manager. */
  get stateBreaker() {
    return this.guard.breaker;
  }

  /** Where "now" is read (the service's clock). */
  get clock() {
    return this.governance.clock;
  }

  /** The organisation config's `agent_api` section: limits, lock scope, heartbeats. */
  get settings() {
    return this.governance.config.agent_api;
  }

  /** Executions whose heartbeat lapsed become `heartbeat_missed` violations; their locks are freed. */
  sweepHeartbeats(): Promise<string[]> {
    return this.heartbeats.sweep();
  }
}
