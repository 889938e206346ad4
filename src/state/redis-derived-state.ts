import { type AgentRecord, agentRecordSchema } from '../core/agent.js';
import type {
  BudgetCharge,
  DerivedState,
  PendingApproval,
  RevokeSignal,
  StateChange,
} from '../core/derived-state.js';
import { keys, type Scripted } from './redis-keys.js';
import type { BudgetChargeResult } from './state-store.js';

/**
 * The derived part of the Redis store: agents, revoke signals, budgets and pending approvals, as
 * the ledger's entries change them, with the snapshot and wholesale replacement restore uses.
 */
export class RedisDerivedState {
  constructor(private readonly redis: Scripted) {}

  async apply(changes: readonly StateChange[]): Promise<void> {
    for (const change of changes) await this.applyOne(change);
  }

  private async applyOne(change: StateChange): Promise<void> {
    const r = this.redis;
    switch (change.kind) {
      case 'put_agent':
        await r
          .multi()
          .del(keys.agent(change.agent.id))
          .hset(keys.agent(change.agent.id), toHashFields(change.agent))
          .sadd(keys.agentsIndex, change.agent.id)
          .exec();
        return;
      case 'patch_agent':
        await r.patchAgent(keys.agent(change.agentId), ...Object.entries(toHashFields(change.patch)).flat());
        return;
      case 'set_revoke_signal': {
        const json = JSON.stringify(change.signal);
        await r
          .multi()
          .set(keys.revokeSignal(change.signal.agentId), json)
          .hset(keys.revocations, change.signal.agentId, json)
          .exec();
        return;
      }
      case 'clear_revoke_signal':
        await r.multi().del(keys.revokeSignal(change.agentId)).hdel(keys.revocations, change.agentId).exec();
        return;
      case 'charge_budget':
        await r
          .multi()
          .zadd(keys.budget(change.agentId), 'NX', change.charge.at, budgetMember(change.charge))
          .sadd(keys.budgetsIndex, change.agentId)
          .exec();
        return;
      case 'add_pending_approval':
        await r.hset(keys.pendingApprovals, change.approval.approvalId, JSON.stringify(change.approval));
        return;
      case 'remove_pending_approval':
        await r.hdel(keys.pendingApprovals, change.approvalId);
        return;
    }
  }

  async getAgent(agentId: string): Promise<AgentRecord | null> {
    return fromHashFields(await this.redis.hgetall(keys.agent(agentId)));
  }

  async listAgents(): Promise<AgentRecord[]> {
    const ids = (await this.redis.smembers(keys.agentsIndex)).sort();
    const agents = await Promise.all(ids.map((id) => this.getAgent(id)));
    return agents.filter((a): a is AgentRecord => a !== null);
  }

  async getRevokeSignal(agentId: string): Promise<RevokeSignal | null> {
    const json = await this.redis.get(keys.revokeSignal(agentId));
    return json ? (JSON.parse(json) as RevokeSignal) : null;
  }

  async listRevocations(): Promise<RevokeSignal[]> {
    const all = await this.redis.hvals(keys.revocations);
    return all.map((json) => JSON.parse(json) as RevokeSignal).sort((a, b) => a.seq - b.seq);
  }

  async listPendingApprovals(): Promise<PendingApproval[]> {
    const all = await this.redis.hvals(keys.pendingApprovals);
    return all
      .map((json) => JSON.parse(json) as PendingApproval)
      .sort((a, b) => a.approvalId.localeCompare(b.approvalId));
  }

  async budgetUsed(agentId: string, sinceMs: number): Promise<number> {
    const members = await this.redis.zrangebyscore(keys.budget(agentId), sinceMs, '+inf');
    return members.reduce((sum, m) => sum + parseBudgetMember(m, 0).amount, 0);
  }

  async chargeBudget(
    agentId: string,
    charge: { id: string; amount: number; at: number },
    limit: number,
    sinceMs: number,
  ): Promise<BudgetChargeResult> {
    const [used, crossed] = await this.redis.chargeBudget(
      keys.budget(agentId),
      keys.budgetsIndex,
      budgetMember(charge),
      charge.at,
      limit,
      sinceMs,
      agentId,
    );
    return { used: Number(used), crossedLimit: crossed === 1 };
  }

  async snapshot(): Promise<DerivedState> {
    const [agents, revocations, approvals, budgetAgents] = await Promise.all([
      this.listAgents(),
      this.redis.hgetall(keys.revocations),
      this.redis.hgetall(keys.pendingApprovals),
      this.redis.smembers(keys.budgetsIndex),
    ]);
    const budgets: Record<string, BudgetCharge[]> = {};
    for (const agentId of budgetAgents.sort()) {
      const flat = await this.redis.zrange(keys.budget(agentId), 0, -1, 'WITHSCORES');
      const charges: BudgetCharge[] = [];
      for (let i = 0; i < flat.length; i += 2) charges.push(parseBudgetMember(flat[i]!, Number(flat[i + 1])));
      if (charges.length) budgets[agentId] = charges.sort((a, b) => a.at - b.at || a.id.localeCompare(b.id));
    }
    return {
      agents: Object.fromEntries(agents.map((a) => [a.id, a])),
      revocations: mapValues(revocations, (json) => JSON.parse(json) as RevokeSignal),
      budgets,
      pendingApprovals: mapValues(approvals, (json) => JSON.parse(json) as PendingApproval),
    };
  }

  async markRestored(): Promise<void> {
    await this.redis.set(keys.restored, new Date().toISOString());
  }

  async isRestored(): Promise<boolean> {
    return (await this.redis.exists(keys.restored)) === 1;
  }

  async replaceDerived(state: DerivedState): Promise<void> {
    const [agentIds, revoked, budgetAgents] = await Promise.all([
      this.redis.smembers(keys.agentsIndex),
      this.redis.hkeys(keys.revocations),
      this.redis.smembers(keys.budgetsIndex),
    ]);
    const tx = this.redis.multi();
    tx.del(keys.agentsIndex, keys.revocations, keys.pendingApprovals, keys.budgetsIndex);
    for (const id of agentIds) tx.del(keys.agent(id));
    for (const id of revoked) tx.del(keys.revokeSignal(id));
    for (const id of budgetAgents) tx.del(keys.budget(id));
    for (const agent of Object.values(state.agents)) {
      tx.hset(keys.agent(agent.id), toHashFields(agent));
      tx.sadd(keys.agentsIndex, agent.id);
    }
    for (const signal of Object.values(state.revocations)) {
      tx.set(keys.revokeSignal(signal.agentId), JSON.stringify(signal));
      tx.hset(keys.revocations, signal.agentId, JSON.stringify(signal));
    }
    for (const approval of Object.values(state.pendingApprovals)) {
      tx.hset(keys.pendingApprovals, approval.approvalId, JSON.stringify(approval));
    }
    for (const [agentId, charges] of Object.entries(state.budgets)) {
      if (charges.length === 0) continue;
      tx.sadd(keys.budgetsIndex, agentId);
      for (const c of charges) tx.zadd(keys.budget(agentId), c.at, budgetMember(c));
    }
    await tx.exec();
  }
}

/** An agent record is a hash of JSON-encoded fields, so a patch is one atomic HSET. */
function toHashFields(record: object): Record<string, string> {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, JSON.stringify(v)]));
}

function fromHashFields(fields: Record<string, string>): AgentRecord | null {
  if (Object.keys(fields).length === 0) return null;
  return agentRecordSchema.parse(
    Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, JSON.parse(v)])),
  );
}

function budgetMember(charge: { id: string; amount: number }): string {
  return `${charge.id}|${charge.amount}`;
}

function parseBudgetMember(member: string, at: number): BudgetCharge {
  const cut = member.lastIndexOf('|');
  return { id: member.slice(0, cut), amount: Number(member.slice(cut + 1)), at };
}

function mapValues<T>(record: Record<string, string>, fn: (json: string) => T): Record<string, T> {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, fn(v)]));
}
