import type { LedgerEntryInput } from './core/ledger-entries.js';
import { renderCheckRunRevoked } from './core/policy/render-check-run.js';
import { UserError } from './errors.js';
import { deploymentReviewMessage } from './github/deployment-gate.js';
import type { Governance } from './governance.js';
import { unknownAgent } from './governance.js';
import { waitingDeployments } from './ledger/deployment-queries.js';
import type { OutboxMessageInput } from './ledger/outbox.js';
import { vaultRevokeMessage } from './secrets/vault-deliverer.js';

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
   */
  async revoke(
    agentId: string,
    reason: string,
    actor: string,
    options: { dryRun?: boolean; statusChanged?: boolean } = {},
  ): Promise<RevocationPlan & { dryRun: boolean }> {
    const g = this.governance;
    const ledger = g.ledger;
    if (!g.agentRegistered(agentId)) throw unknownAgent(agentId);
    if (options.dryRun) return { ...this.plan(agentId), dryRun: true };
    const plan = ledger.atomically(() => {
      const status = g.statusInLedger(agentId);
      if (status === 'revoked' && !options.statusChanged) {
        throw new UserError(
          'already_revoked',
          `${agentId} is already revoked; see \`agov agents show ${agentId}\``,
        );
      }
      const p = this.plan(agentId);
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
      const entries: LedgerEntryInput[] = [
        {
          type: 'revocation.requested',
          agentId,
          actor,
          payload: { revocationId: p.revocationId, reason, effects: p.effects },
        },
      ];
      // Deployments of the agent waiting on a gate are rejected now, each recorded with its answer.
      for (const d of waitingDeployments(ledger.db, agentId)) {
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
      if (!options.statusChanged) {
        entries.push({
          type: 'agent.status_changed',
          agentId,
          actor,
          payload: { from: status as 'active' | 'suspended', to: 'revoked', reason },
        });
      }
      ledger.appendAll(entries, { outbox: calls });
      return p;
    });
    await g.syncState();
    await g.state
      .pushAlert({
        kind: 'agent_revoked',
        agentId,
        message: `${agentId} revoked by ${actor}: ${reason}`,
        at: new Date().toISOString(),
      })
      .catch(() => undefined);
    // Read back the signal every gate and preflight checks.
    const signal = await g.state.getRevokeSignal(agentId).catch(() => null);
    await this.effect(
      plan.revocationId,
      agentId,
      'revoke_signal',
      signal !== null,
      signal
        ? `read back: ${signal.reason}`
        : 'the revoke signal could not be read back; the ledger still denies',
    );
    this.onOutbox();
    return { ...plan, dryRun: false };
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
