import { randomUUID } from 'node:crypto';
import type { LedgerEntryInput } from '../core/ledger-entries.js';
import { renderCheckRunRevoked } from '../core/policy/render-check-run.js';
import type { SafetyAction } from '../core/safety-action.js';
import { deploymentReviewMessage } from '../github/deployment-gate.js';
import { waitingDeployments } from '../ledger/deployment-queries.js';
import type { OutboxMessageInput } from '../ledger/outbox.js';
import { UserError } from '../platform/errors.js';
import { vaultRevokeMessage } from '../secrets/vault-deliverer.js';
import type { Governance } from './governance.js';
import { unknownAgent } from './governance.js';
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

export interface RevocationStatus {
  revocationId: string;
  reason: string;
  effects: Record<string, 'held' | 'failed' | 'pending'>;
  confirmed: boolean;
}

/**
 * The kill switch. Locally and at once, in one ledger transaction: the request, the agent's status
 * (which sets the revoke signal every gate and preflight reads), the alert, and the calls that fail
 * the agent's open PR checks and revoke its Vault access. Then each effect is confirmed, not
 * assumed: the revoke signal is read back here, the deliverers report the rest, and `confirmed` is
 * recorded only when all hold. A failed effect is recorded as failed.
 */
export class Revocations {
  constructor(
    private readonly governance: Governance,
    private readonly options: { vault: boolean },
    private readonly onOutbox: () => void = () => {},
  ) {}

  plan(agentId: string): RevocationPlan {
    const db = this.governance.ledger.db;
    const open = db
      .prepare(
        `SELECT d.repository, d.number, d.head_sha, e.payload FROM decisions d JOIN ledger_entries e ON e.seq = d.seq
         WHERE d.agent_id = ? AND d.seq = (SELECT MAX(seq) FROM decisions d2 WHERE d2.repository = d.repository AND d2.number = d.number)
           AND d.outcome != 'deny'`,
      )
      .all(agentId) as { repository: string; number: number; head_sha: string; payload: string }[];
    const prs = open
      .map((r) => ({
        repository: r.repository,
        number: r.number,
        headSha: r.head_sha,
        installationId: JSON.parse(r.payload).installationId as number | undefined,
      }))
      .filter((r): r is RevocationPlan['openPullRequests'][number] => typeof r.installationId === 'number');
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
   * `statusChanged`: a violation already set the status in the ledger; complete the rest of the kill
   * switch (the request, the checks, Vault, the confirmations).
   *
   * An admin's revocation holds even when the ledger cannot be written: the state store has it at
   * once, and the safety journal keeps it until the ledger records it (`queued: true`).
   */
  async revoke(
    agentId: string,
    reason: string,
    actor: string,
    options: { dryRun?: boolean; statusChanged?: boolean } = {},
  ): Promise<RevocationPlan & { dryRun: boolean; queued: boolean }> {
    const g = this.governance;
    if (!g.agentRegistered(agentId)) throw unknownAgent(agentId);
    if (options.dryRun) return { ...this.plan(agentId), dryRun: true, queued: false };
    if (options.statusChanged) {
      const plan = g.ledger.atomically(() => this.appendRevocation(agentId, reason, actor, true));
      await this.complete(plan, actor, reason);
      return { ...plan, dryRun: false, queued: false };
    }
    if (g.statusInLedger(agentId) === 'revoked') throw alreadyRevoked(agentId);
    const id = randomUUID();
    const action: SafetyAction = {
      id,
      kind: 'revoke',
      agentId,
      actor,
      reason,
      requestedAt: new Date().toISOString(),
      revocationId: `rev-${agentId}-q${id.slice(0, 8)}`,
    };
    const plan = await takeSafetyAction(g, action, () =>
      this.appendRevocation(agentId, reason, actor, false),
    );
    if (plan) {
      await this.complete(plan, actor, reason);
      return { ...plan, dryRun: false, queued: false };
    }
    await this.alert(agentId, actor, reason);
    return { ...this.plan(agentId), revocationId: action.revocationId!, dryRun: false, queued: true };
  }

  /**
   * Appends a revocation the safety journal kept, with its original time and revocation id, and
   * completes it. Inside the caller's write transaction for the append; null when the ledger
   * already says revoked (the kill switch ran already; nothing to add).
   */
  appendQueued(action: SafetyAction): RevocationPlan | null {
    if (this.governance.statusInLedger(action.agentId) === 'revoked') return null;
    return this.appendRevocation(action.agentId, action.reason, action.actor, false, action);
  }

  /** What follows a recorded revocation: state, alert, the signal read back, the outbox kicked. */
  async complete(plan: RevocationPlan, actor: string, reason: string): Promise<void> {
    const g = this.governance;
    await g.syncState();
    await this.alert(plan.agentId, actor, reason);
    // Read back the signal every gate and preflight checks.
    const signal = await g.state.getRevokeSignal(plan.agentId).catch(() => null);
    await this.effect(
      plan.revocationId,
      plan.agentId,
      'revoke_signal',
      signal !== null,
      signal
        ? `read back: ${signal.reason}`
        : 'the revoke signal could not be read back; the ledger still denies',
    );
    this.onOutbox();
  }

  private async alert(agentId: string, actor: string, reason: string): Promise<void> {
    await this.governance.state
      .pushAlert({
        kind: 'agent_revoked',
        agentId,
        message: `${agentId} revoked by ${actor}: ${reason}`,
        at: new Date().toISOString(),
      })
      .catch(() => undefined);
  }

  /** The request, the status and the calls, in the caller's write transaction. */
  private appendRevocation(
    agentId: string,
    reason: string,
    actor: string,
    statusChanged: boolean,
    queued?: SafetyAction,
  ): RevocationPlan {
    const g = this.governance;
    const status = g.statusInLedger(agentId);
    if (status === 'revoked' && !statusChanged) throw alreadyRevoked(agentId);
    const p = {
      ...this.plan(agentId),
      ...(queued?.revocationId ? { revocationId: queued.revocationId } : {}),
    };
    const calls: OutboxMessageInput[] = p.openPullRequests.map((pr) => {
      const [owner, repo] = pr.repository.split('/') as [string, string];
      return {
        target: 'github',
        kind: 'check_run.upsert',
        idempotencyKey: `${p.revocationId}:check:${pr.repository}#${pr.number}`,
        orderingKey: `check:${pr.repository}@${pr.headSha}`,
        payload: {
          installationId: pr.installationId,
          owner,
          repo,
          headSha: pr.headSha,
          name: 'Agent Governance',
          render: renderCheckRunRevoked(agentId, reason),
          revocation: {
            revocationId: p.revocationId,
            agentId,
            effect: `check:${pr.repository}#${pr.number}`,
          },
        },
      };
    });
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
    // Deployments of the agent waiting on a gate are rejected now, each recorded with its answer.
    for (const d of waitingDeployments(g.ledger.db, agentId)) {
      const reasons = [...d.reasons, `${agentId} was revoked by ${actor}: ${reason}`];
      entries.push({
        type: 'deployment.decided',
        agentId,
        actor,
        payload: { ...d, state: 'rejected', gate: null, reasons },
      });
      const [owner, repo] = d.repository.split('/') as [string, string];
      calls.push(
        deploymentReviewMessage(
          {
            installationId: d.installationId,
            owner,
            repo,
            runId: d.runId,
            environment: d.environment,
            state: 'rejected',
            comment: `Agent Governance: Rejected: ${reasons.join('; ')}.`.slice(0, 1000),
          },
          p.revocationId,
        ),
      );
    }
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

  /** Records one effect's outcome (called by the deliverers too) and `confirmed` once all hold. */
  async effect(
    revocationId: string,
    agentId: string,
    effect: string,
    ok: boolean,
    detail: string,
  ): Promise<void> {
    const ledger = this.governance.ledger;
    ledger.atomically(() => {
      ledger.append({
        type: 'revocation.effect',
        agentId,
        actor: 'governance',
        payload: { revocationId, effect, ok, detail },
      });
      const status = this.status(agentId);
      if (
        status &&
        status.revocationId === revocationId &&
        !status.confirmed &&
        Object.values(status.effects).every((e) => e === 'held')
      ) {
        ledger.append({
          type: 'revocation.confirmed',
          agentId,
          actor: 'governance',
          payload: { revocationId },
        });
      }
    });
    await this.governance.syncState();
  }

  /** The newest revocation of an agent with each effect's state, or null. */
  status(agentId: string): RevocationStatus | null {
    const rows = this.governance.ledger.db
      .prepare(
        `SELECT e.type, e.payload FROM agent_actions a JOIN ledger_entries e ON e.seq = a.seq
         WHERE a.agent_id = ? AND a.type IN ('revocation.requested', 'revocation.effect', 'revocation.confirmed') ORDER BY a.seq`,
      )
      .all(agentId) as { type: string; payload: string }[];
    let current: RevocationStatus | null = null;
    for (const row of rows) {
      const p = JSON.parse(row.payload);
      if (row.type === 'revocation.requested') {
        current = {
          revocationId: p.revocationId,
          reason: p.reason,
          effects: Object.fromEntries(p.effects.map((e: string) => [e, 'pending'])),
          confirmed: false,
        };
      } else if (current && p.revocationId === current.revocationId) {
        if (row.type === 'revocation.effect') {
          // Once an effect held, a later failed retry does not undo it; a failure stays until it holds.
          if (current.effects[p.effect] !== 'held') current.effects[p.effect] = p.ok ? 'held' : 'failed';
        } else current.confirmed = true;
      }
    }
    return current;
  }
}
