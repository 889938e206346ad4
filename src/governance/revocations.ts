import { randomUUID } from 'node:crypto';
import type { LedgerEntry } from '../core/ledger-entries.js';
import type { SafetyAction } from '../core/safety-action.js';
import type { FollowerWork, LedgerView } from '../ledger/async-ledger.js';
import type { LedgerReader } from '../ledger/ledger-reader.js';
import { agentsAsync } from '../ledger/queries/agents.js';
import { deploymentsAsync } from '../ledger/queries/deployments.js';
import { revocationsAsync } from '../ledger/queries/revocations.js';
import { unknownAgent } from './agent-registry.js';
import type { Governance } from './governance.js';
import { deploymentRejections } from './revocation-calls.js';
import { revocationEffect } from './revocation-effects.js';
import {
  alreadyRevoked,
  factsFrom,
  planOf,
  type RevocationFacts,
  type RevocationPlan,
  revocationEntries,
} from './revocation-plan.js';
import { type RevocationStatus, revocationStatus } from './revocation-status.js';
import { type SafetyDecision, takeSafetyAction } from './safety-actions.js';

export type { RevocationPlan };

/** A status change the kill switch follows: its agent, its entry's seq, why and by whom. */
interface StatusChange {
  agentId: string;
  seq: number;
  reason: string;
  actor: string;
}

export class Revocations {
  constructor(
    private readonly governance: Governance,
    private readonly options: { vault: boolean },
    private readonly onOutbox: () => void = () => {},
  ) {}

  /** What revoking the agent would do now (the dry run's answer, and a queued revocation's). */
  async plan(agentId: string): Promise<RevocationPlan> {
    const { store } = this.governance;
    const facts = await factsFrom(store.reader, (await store.head()).seq, agentId);
    return planOf(agentId, facts, this.options.vault);
  }

  /**
   * An admin's revocation. It holds even when the ledger cannot be written: the state store has it
   * at once, and the safety journal keeps it until the ledger records it (`queued: true`).
   */
  async revoke(
    agentId: string,
    reason: string,
    actor: string,
    options: { dryRun?: boolean } = {},
  ): Promise<RevocationPlan & { dryRun: boolean; queued: boolean }> {
    const g = this.governance;
    if (!(await g.agents.isRegistered(agentId))) throw unknownAgent(agentId);
    if (options.dryRun) return { ...(await this.plan(agentId)), dryRun: true, queued: false };
    if ((await g.statusInLedger(agentId)) === 'revoked') throw alreadyRevoked(agentId);
    const id = randomUUID();
    const action: SafetyAction = {
      id,
      kind: 'revoke',
      agentId,
      actor,
      reason,
      requestedAt: g.clock.now().toISOString(),
      revocationId: `rev-${agentId}-q${id.slice(0, 8)}`,
    };
    const plan = await takeSafetyAction(g, action, async (view) =>
      revocationEntries(await this.factsAt(view, agentId), this.options.vault, agentId, reason, actor, false),
    );
    if (plan) {
      await this.complete(plan);
      return { ...plan, dryRun: false, queued: false };
    }
    await this.pushAlert(agentId, `${agentId} revoked by ${actor}: ${reason}`);
    const planned = await this.plan(agentId);
    return { ...planned, revocationId: action.revocationId!, dryRun: false, queued: true };
  }

  /**
   * A revocation the safety journal kept, with its original time and revocation id, for the
   * caller's decision: no entries (and a null plan) when the ledger already says revoked.
   */
  async decideQueued(view: LedgerView, action: SafetyAction): Promise<SafetyDecision<RevocationPlan | null>> {
    const facts = await this.factsAt(view, action.agentId);
    if (facts.status === 'revoked') return { entries: [], result: null };
    return revocationEntries(
      facts,
      this.options.vault,
      action.agentId,
      action.reason,
      action.actor,
      false,
      action,
    );
  }

  private factsAt(view: LedgerView, agentId: string): Promise<RevocationFacts> {
    return factsFrom(view.reader, view.head.seq, agentId);
  }

  /**
   * For the consequences follower, in its decision: a status turned to revoked without a
   * revocation request in the same change (a critical violation, an exhausted budget) gets the
   * request now, and a suspension answers the agent's waiting deployments. Reads through the
   * decision's view; the entries are appended and the calls queued (caused by the status change)
   * by the follower's step, with its position.
   */
  async followEntry(entry: LedgerEntry, view: LedgerView): Promise<FollowerWork> {
    if (entry.type !== 'agent.status_changed' || !entry.agentId) return {};
    const change = {
      agentId: entry.agentId,
      seq: entry.seq,
      reason: entry.payload.reason,
      actor: entry.actor,
    };
    if (entry.payload.to === 'revoked') return this.completeKillSwitch(view.reader, change);
    if (entry.payload.to === 'suspended') return this.rejectWaitingDeployments(view.reader, change);
    return {};
  }

  /**
   * A suspension answers the agent's deployments waiting on a gate: rejected, saying why (their
   * cards close from those entries), as a revocation does. Not when the agent was resumed (or
   * revoked) since: a later change decides instead.
   */
  private async rejectWaitingDeployments(reader: LedgerReader, change: StatusChange): Promise<FollowerWork> {
    const { agentId, seq, reason, actor } = change;
    if ((await agentsAsync.agentStatus(reader, agentId)) !== 'suspended') return {};
    const waiting = await deploymentsAsync.waitingDeployments(reader, agentId);
    if (waiting.length === 0) return {};
    const rejected = deploymentRejections(waiting, {
      cause: `suspension:${seq}`,
      agentId,
      actor,
      reason,
      status: 'suspended',
    });
    return { entries: rejected.entries, calls: rejected.calls };
  }

  /**
   * The rest of the kill switch for the status change to revoked at `change.seq`, once: not when
   * the change already has its request (the admin's, or one added before, whatever the follower's
   * position says), and not when a later change superseded it (the agent was reinstated or resumed
   * since: failing its checks now would hit an agent in good standing). The revocation id is the
   * change's own, so doing this again can only find what was done. Read through a decision's
   * reader; its calls are caused by the status change.
   */
  private async completeKillSwitch(reader: LedgerReader, change: StatusChange): Promise<FollowerWork> {
    const { agentId, seq, reason, actor } = change;
    if ((await revocationsAsync.statusChangeAfter(reader, agentId, seq)) !== null) return {};
    const since = await revocationsAsync.statusChangeBefore(reader, agentId, seq);
    const records = await revocationsAsync.revocationRecordsOf(reader, agentId);
    if (records.some((r) => r.type === 'revocation.requested' && r.seq > since)) return {};
    // The id is given: the facts' next sequence names nothing here.
    const facts = await factsFrom(reader, seq, agentId);
    const id = `rev-${agentId}-${seq}`;
    const { entries, outbox } = revocationEntries(
      facts,
      this.options.vault,
      agentId,
      reason,
      actor,
      true,
      undefined,
      id,
    );
    return { entries, calls: outbox };
  }

  /**
   * Every revoked agent whose revocation has no request yet gets one: a follower whose position was
   * moved past a revocation (or any other way one was skipped) cannot leave a kill switch undone.
   * Each decided from the ledger as it is extended, so two processes healing at once do it once.
   */
  async healSkipped(): Promise<void> {
    const { store } = this.governance;
    for (const change of await revocationsAsync.latestRevokingChanges(store.reader))
      await store.appendDecided(async (view) => {
        const work = await this.completeKillSwitch(view.reader, change);
        const followUps = (work.calls ?? []).map((message) => ({ seq: change.seq, message }));
        return { entries: work.entries ?? [], followUps };
      });
  }

  /** What follows an admin's recorded revocation in this process: state, the signal read back, delivery. */
  async complete(plan: RevocationPlan): Promise<void> {
    await this.governance.syncState();
    await this.confirmSignal(plan.agentId);
    this.onOutbox();
  }

  /**
   * Reads back the revoke signal of every revoked agent whose revocation still waits for it, and
   * records the effect (once). Derived from the ledger, so a revocation recorded by another process,
   * or before a crash, is confirmed by whichever server runs this next.
   */
  async confirmSignals(): Promise<void> {
    const { reader } = this.governance.store;
    for (const agentId of await revocationsAsync.unconfirmedRevocations(reader))
      await this.confirmSignal(agentId);
  }

  private async confirmSignal(agentId: string): Promise<void> {
    const status = await this.status(agentId);
    if (!status || status.effects.revoke_signal === 'held') return;
    await this.governance.syncState();
    const signal = await this.governance.state.getRevokeSignal(agentId).catch(() => null);
    if (!signal && status.effects.revoke_signal === 'failed') return;
    const effect = {
      revocationId: status.revocationId,
      agentId,
      effect: 'revoke_signal',
      ok: signal !== null,
      detail: signal
        ? `read back: ${signal.reason}`
        : 'the revoke signal could not be read back; the ledger still denies',
    };
    await this.governance.store.appendDecided(revocationEffect(effect));
    if (signal) await this.pushAlert(agentId, `${agentId} revoked: ${status.reason}`);
    await this.governance.syncState();
  }

  /** The state store's alert queue (`alerts:queue`) for outside consumers; Slack gets its own through the outbox. */
  private async pushAlert(agentId: string, message: string): Promise<void> {
    await this.governance.state
      .pushAlert({ kind: 'agent_revoked', agentId, message, at: this.governance.clock.now().toISOString() })
      .catch(() => undefined);
  }

  /** The newest revocation of an agent with each effect's state, or null. */
  async status(
    agentId: string,
    reader: LedgerReader = this.governance.store.reader,
  ): Promise<RevocationStatus | null> {
    return revocationStatus(await revocationsAsync.revocationRecordsOf(reader, agentId));
  }
}
