import { randomUUID } from 'node:crypto';
import type { LedgerEntry, LedgerEntryInput } from '../core/ledger-entries.js';
import type { SafetyAction } from '../core/safety-action.js';
import type { OutboxMessageInput } from '../ledger/outbox.js';
import {
  latestRevokingChanges,
  openPullRequestsOf,
  revocationRecordsOf,
  statusChangeAfter,
  statusChangeBefore,
  unconfirmedRevocations,
} from '../ledger/queries/revocations.js';
import { UserError } from '../platform/errors.js';
import { vaultRevokeMessage } from '../secrets/vault-deliverer.js';
import { unknownAgent } from './agent-registry.js';
import type { Governance } from './governance.js';
import { deploymentRejections, failCheckCall } from './revocation-calls.js';
import { type RevocationStatus, revocationStatus } from './revocation-status.js';
import { takeSafetyAction } from './safety-actions.js';

function alreadyRevoked(agentId: string): UserError {
  return new UserError(
    'already_revoked',
    `${agentId} is already revoked; see \`agov agents show ${agentId}\``,
  );
}

export interface RevocationPlan {
  revocationId: string;
  agentId: string;
  /** Each effect that must hold before the revocation is `confirmed`. */
  effects: string[];
  openPullRequests: { repository: string; number: number; headSha: string; installationId: number }[];
}

/**
 * The kill switch. In one ledger transaction: the request, the agent's status (which sets the
 * revoke signal every gate and preflight reads), and the calls that fail the agent's open PR
 * checks, revoke its Vault access and reject its waiting deployments. A status turned to revoked
 * by a violation gets the rest from the consequences follower (`followEntry`), in the follower's
 * transaction, whichever process recorded the violation. Each effect is then confirmed, not
 * assumed: the delivery of each call records its effect, the revoke signal is read back
 * (`confirmSignals`), and `confirmed` is recorded when all hold.
 */
export class Revocations {
  constructor(
    private readonly governance: Governance,
    private readonly options: { vault: boolean },
    private readonly onOutbox: () => void = () => {},
  ) {}

  plan(agentId: string): RevocationPlan {
    const prs = openPullRequestsOf(this.governance.ledger, agentId);
    return {
      revocationId: `rev-${agentId}-${this.governance.ledger.head().seq + 1}`,
      agentId,
      effects: [
        'revoke_signal',
        ...prs.map((p) => `check:${p.repository}#${p.number}`),
        ...(this.options.vault ? ['vault'] : []),
      ],
      openPullRequests: prs,
    };
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
    if (!g.agents.isRegistered(agentId)) throw unknownAgent(agentId);
    if (options.dryRun) return { ...this.plan(agentId), dryRun: true, queued: false };
    if (g.statusInLedger(agentId) === 'revoked') throw alreadyRevoked(agentId);
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
    const plan = await takeSafetyAction(g, action, () =>
      this.appendRevocation(agentId, reason, actor, false),
    );
    if (plan) {
      await this.complete(plan);
      return { ...plan, dryRun: false, queued: false };
    }
    await this.pushAlert(agentId, `${agentId} revoked by ${actor}: ${reason}`);
    return { ...this.plan(agentId), revocationId: action.revocationId!, dryRun: false, queued: true };
  }

  /**
   * Appends a revocation the safety journal kept, with its original time and revocation id. Inside
   * the caller's write transaction; null when the ledger already says revoked (nothing to add).
   */
  appendQueued(action: SafetyAction): RevocationPlan | null {
    if (this.governance.statusInLedger(action.agentId) === 'revoked') return null;
    return this.appendRevocation(action.agentId, action.reason, action.actor, false, action);
  }

  /**
   * For the consequences follower, inside its transaction: a status turned to revoked without a
   * revocation request in the same change (a critical violation, an exhausted budget) gets the
   * request and its calls now.
   */
  followEntry(entry: LedgerEntry): void {
    if (entry.type !== 'agent.status_changed' || !entry.agentId) return;
    if (entry.payload.to === 'revoked')
      this.completeKillSwitch(entry.agentId, entry.seq, entry.payload.reason, entry.actor);
    if (entry.payload.to === 'suspended')
      this.rejectWaitingDeployments(entry.agentId, entry.seq, entry.payload.reason, entry.actor);
  }

  /**
   * A suspension answers the agent's deployments waiting on a gate: rejected, saying why (their
   * cards close from those entries), as a revocation does. Not when the agent was resumed (or
   * revoked) since: a later change decides instead.
   */
  private rejectWaitingDeployments(agentId: string, statusSeq: number, reason: string, actor: string): void {
    const g = this.governance;
    if (g.statusInLedger(agentId) !== 'suspended') return;
    const rejected = deploymentRejections(g.ledger, {
      cause: `suspension:${statusSeq}`,
      agentId,
      actor,
      reason,
      status: 'suspended',
    });
    if (rejected.entries.length === 0) return;
    g.ledger.appendAll(rejected.entries, { outbox: rejected.calls });
    this.onOutbox();
  }

  /**
   * The rest of the kill switch for the status change to revoked at `statusSeq`, once: not when the
   * change already has its request (the admin's, or one added before, whatever the follower's
   * position says), and not when a later change superseded it (the agent was reinstated or resumed
   * since: failing its checks now would hit an agent in good standing). The revocation id is the
   * change's own, so doing this again can only find what was done.
   */
  private completeKillSwitch(agentId: string, statusSeq: number, reason: string, actor: string): void {
    const ledger = this.governance.ledger;
    if (statusChangeAfter(ledger, agentId, statusSeq) !== null) return;
    const since = statusChangeBefore(ledger, agentId, statusSeq);
    const requested = revocationRecordsOf(ledger, agentId).some(
      (r) => r.type === 'revocation.requested' && r.seq > since,
    );
    if (!requested)
      this.appendRevocation(agentId, reason, actor, true, undefined, `rev-${agentId}-${statusSeq}`);
  }

  /**
   * Every revoked agent whose revocation has no request yet gets one: a follower whose position was
   * moved past a revocation (or any other way one was skipped) cannot leave a kill switch undone.
   */
  healSkipped(): void {
    const ledger = this.governance.ledger;
    for (const { agentId, seq, reason, actor } of latestRevokingChanges(ledger))
      ledger.atomically(() => this.completeKillSwitch(agentId, seq, reason, actor));
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
    for (const agentId of unconfirmedRevocations(this.governance.ledger)) await this.confirmSignal(agentId);
  }

  private async confirmSignal(agentId: string): Promise<void> {
    const status = this.status(agentId);
    if (!status || status.effects.revoke_signal === 'held') return;
    await this.governance.syncState();
    const signal = await this.governance.state.getRevokeSignal(agentId).catch(() => null);
    if (!signal && status.effects.revoke_signal === 'failed') return;
    this.governance.ledger.atomically(() =>
      this.recordEffect(
        status.revocationId,
        agentId,
        'revoke_signal',
        signal !== null,
        signal
          ? `read back: ${signal.reason}`
          : 'the revoke signal could not be read back; the ledger still denies',
      ),
    );
    if (signal) await this.pushAlert(agentId, `${agentId} revoked: ${status.reason}`);
    await this.governance.syncState();
  }

  /** The state store's alert queue (`alerts:queue`) for outside consumers; Slack gets its own through the outbox. */
  private async pushAlert(agentId: string, message: string): Promise<void> {
    await this.governance.state
      .pushAlert({ kind: 'agent_revoked', agentId, message, at: this.governance.clock.now().toISOString() })
      .catch(() => undefined);
  }

  /** The request, the status and the calls, in the caller's write transaction. */
  private appendRevocation(
    agentId: string,
    reason: string,
    actor: string,
    statusChanged: boolean,
    queued?: SafetyAction,
    revocationId?: string,
  ): RevocationPlan {
    const g = this.governance;
    const status = g.statusInLedger(agentId);
    if (status === 'revoked' && !statusChanged) throw alreadyRevoked(agentId);
    const id = revocationId ?? queued?.revocationId;
    const p = { ...this.plan(agentId), ...(id ? { revocationId: id } : {}) };
    const calls: OutboxMessageInput[] = p.openPullRequests.map((pr) =>
      failCheckCall(p.revocationId, agentId, reason, pr),
    );
    if (this.options.vault) calls.push(vaultRevokeMessage(agentId, p.revocationId));
    const original = queued ? { requestedAt: queued.requestedAt, journalId: queued.id } : {};
    const entries: LedgerEntryInput[] = [
      {
        type: 'revocation.requested',
        agentId,
        actor,
        payload: { revocationId: p.revocationId, reason, effects: p.effects, ...original },
      },
    ];
    const rejected = deploymentRejections(g.ledger, {
      cause: p.revocationId,
      agentId,
      actor,
      reason,
      status: 'revoked',
    });
    entries.push(...rejected.entries);
    calls.push(...rejected.calls);
    if (!statusChanged) {
      entries.push({
        type: 'agent.status_changed',
        agentId,
        actor,
        payload: { from: status as 'active' | 'suspended', to: 'revoked', reason, ...original },
      });
    }
    g.ledger.appendAll(entries, { outbox: calls });
    return p;
  }

  /**
   * Records one effect's outcome, and `confirmed` once all hold. Inside the caller's transaction
   * (a delivery's): an effect that already held is not recorded again, nor a failure twice.
   */
  recordEffect(revocationId: string, agentId: string, effect: string, ok: boolean, detail: string): void {
    const ledger = this.governance.ledger;
    ledger.atomically(() => {
      const before = this.status(agentId);
      if (!before || before.revocationId !== revocationId) return;
      const now = before.effects[effect];
      if (now === 'held' || (!ok && now === 'failed')) return;
      ledger.append({
        type: 'revocation.effect',
        agentId,
        actor: 'governance',
        payload: { revocationId, effect, ok, detail },
      });
      const after = this.status(agentId);
      if (after && !after.confirmed && Object.values(after.effects).every((e) => e === 'held')) {
        ledger.append({
          type: 'revocation.confirmed',
          agentId,
          actor: 'governance',
          payload: { revocationId },
        });
      }
    });
  }

  /** The newest revocation of an agent with each effect's state, or null. */
  status(agentId: string): RevocationStatus | null {
    return revocationStatus(revocationRecordsOf(this.governance.ledger, agentId));
  }
}
