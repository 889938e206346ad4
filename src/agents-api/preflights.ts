import type { AgentRecord } from '../core/agent.js';
import type { AgentStatus } from '../core/lifecycle.js';
import { tierCapabilities } from '../core/org-config.js';
import { decidePreflight, type PreflightDecision, type PreflightRequest } from '../core/preflight.js';
import type { Governance } from '../governance/governance.js';
import { agentQuestions } from '../ledger/queries/agents.js';
import type { Logger } from '../platform/logger.js';
import { StateNotRestoredError } from '../state/state-store.js';
import type { ExecutionLocks } from './execution-locks.js';
import type { StateGuard } from './state-guard.js';

export type PreflightAnswer = { status: number; body: PreflightDecision & { seq: number } };

/**
 * May this agent do this now? Decided by the core from what the state store holds (revocations,
 * budget, locks, rates), answered deny when the store cannot be read, and recorded in the ledger.
 */
export class Preflights {
  constructor(
    private readonly governance: Governance,
    private readonly guard: StateGuard,
    private readonly locks: ExecutionLocks,
    private readonly logger: Logger,
  ) {}

  async answer(agent: AgentRecord, request: PreflightRequest): Promise<PreflightAnswer> {
    const { status, decision } = await this.decide(agent, request);
    return { status, body: await this.record(agent, request, decision) };
  }

  private async decide(
    agent: AgentRecord,
    request: PreflightRequest,
  ): Promise<{ status: number; decision: PreflightDecision }> {
    try {
      const g = this.governance;
      const windowStart = g.clock.ms() - g.config.budgets.window_hours * 3600_000;
      const [, revokeSignal, fresh, lock, budgetUsed, rate] = await this.guard.run(() =>
        Promise.all([
          this.guard.restored(),
          g.state.getRevokeSignal(agent.id),
          g.state.getAgent(agent.id),
          g.state.getLock(this.locks.lockKey(agent, request.repository)),
          g.state.budgetUsed(agent.id, windowStart),
          g.state.hitRateLimit(`preflight:${agent.id}`, g.config.agent_api.preflights_per_minute, 60_000),
        ]),
      );
      const current = fresh ?? agent;
      const decision = decidePreflight(request, {
        agent: current,
        revokeSignal,
        capabilities: tierCapabilities(g.config, current.tier),
        lockHeldBy: lock && !lock.holder.startsWith(`${agent.id}:`) ? lock.holder.split(':')[0]! : null,
        budgetUsed,
        budgetLimit: g.config.budgets.limit,
        rateAllowed: rate.allowed,
      });
      return { status: 200, decision };
    } catch (error) {
      // Fail closed: without the revoke signal and the budget, nothing is allowed.
      // The reason is for the agent: what the store said (hosts, ports, scripts) goes to the log.
      const detail =
        error instanceof StateNotRestoredError ? error.message : 'state store unavailable; try again shortly';
      this.logger.warn({ agent: agent.id, err: error }, 'preflight denied: state store unavailable');
      return { status: 503, decision: { decision: 'deny', reasons: [`state_store: ${detail}`], checks: [] } };
    }
  }

  /**
   * The answer is re-checked against the agent's status in the ledger exactly as its entry extends
   * it: a revocation recorded while this preflight was being decided, or while its entry waited
   * for the commit, turns an allow into a deny. On SQLite the re-check runs inside the group
   * commit (`appendAnswered`), so preflights share one transaction with each other's appends.
   */
  private async record(
    agent: AgentRecord,
    request: PreflightRequest,
    decided: PreflightDecision,
  ): Promise<PreflightDecision & { seq: number }> {
    let decision = decided;
    const [entry] = await this.governance.store.appendAnswered(
      agentQuestions.agentStatus(agent.id),
      (status) => {
        // Decided afresh from `decided` each time: a decision may be made more than once.
        decision = recheckedAgainst(status, decided);
        const payload = {
          action: request.action,
          repository: request.repository,
          decision: decision.decision,
          reasons: decision.reasons,
        };
        return [{ type: 'preflight.decided', agentId: agent.id, actor: agent.id, payload }];
      },
    );
    return { ...decision, seq: entry!.seq };
  }
}

/** An allow stands only while the ledger still has the agent active. */
function recheckedAgainst(status: AgentStatus | null, decision: PreflightDecision): PreflightDecision {
  if (decision.decision !== 'allow' || status === 'active') return decision;
  return {
    decision: 'deny',
    reasons: [`status: agent is ${status ?? 'unknown'} (changed while deciding)`],
    checks: decision.checks,
  };
}
