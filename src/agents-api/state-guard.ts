import { type IPolicy, TimeoutStrategy, timeout, wrap } from 'cockatiel';
import type { AgentRecord } from '../core/agent.js';
import type { Governance } from '../governance/governance.js';
import { createBreaker } from '../platform/resilience.js';
import { StateNotRestoredError } from '../state/state-store.js';
import { notActive } from './api-refusal.js';

/**
 * The agent API's way to the state store: every call runs behind a timeout and a breaker, so a
 * store that hangs or is down fails fast (and preflight denies) instead of holding requests.
 */
export class StateGuard {
  /** The state store's breaker, read by the health manager. */
  readonly breaker = createBreaker({ halfOpenAfterMs: 2000, consecutiveFailures: 3 });
  private readonly policy: IPolicy;

  constructor(private readonly governance: Governance) {
    this.policy = wrap(timeout(1500, TimeoutStrategy.Aggressive), this.breaker);
  }

  /** Runs a state-store call behind the timeout and the breaker. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    return this.policy.execute(fn);
  }

  /** Resolves once the store holds what the ledger says; a store that came back empty is not read. */
  async restored(): Promise<void> {
    if (!(await this.governance.state.isRestored())) throw new StateNotRestoredError();
  }

  /** Refuses an agent the state store says is revoked or not active. */
  async requireActive(agent: AgentRecord): Promise<void> {
    const [, signal, current] = await this.run(() =>
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
