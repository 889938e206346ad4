import type { DeploymentApprovalKey } from '../core/approval-key.js';
import {
  type DeploymentRequest,
  type DeploymentVote,
  deploymentAnswer,
  tallyDeployment,
} from '../core/deployment-approval.js';
import type { LedgerEntryInput, LedgerPayload } from '../core/ledger-entries.js';
import type { GateTally } from '../core/policy/gate-tally.js';
import { deploymentReviewMessage } from '../github/deployment-gate.js';
import type { OutboxMessageInput } from '../ledger/outbox.js';
import { deploymentsAsync, type StoredDeploymentDecision } from '../ledger/queries/deployments.js';
import type { Governance } from './governance.js';

/** What the state store says of a deployment's agent: revoked, not, or it cannot be read now. */
export type RevokeSignal = 'none' | 'revoked' | 'unreadable';

/** A deployment that waits (or waited) for people: its newest entry and the request it carries. */
export interface DeploymentWait {
  seq: number;
  decided: LedgerPayload<'deployment.decided'>;
  request: DeploymentRequest;
}

/**
 * Deployments waiting on a gate, as people vote on them: where each stands (the one tally over
 * the votes given on it), and its answer to GitHub once the votes, the deadline or nobody left to
 * vote decide it. An answer is a `deployment.decided` entry with its outbox call (`answerOf`), in
 * the caller's decided append: the answer is given exactly when it is recorded, and once.
 */
export class DeploymentApprovals {
  constructor(private readonly governance: Governance) {}

  /**
   * The newest entry of a deployment, when it carries a request for people (pending or not).
   * `reader`: the ledger as a decision sees it (the consequences follower's), or as it is now.
   */
  async latest(
    d: DeploymentApprovalKey,
    beforeSeq?: number,
    reader = this.governance.store.reader,
  ): Promise<DeploymentWait | null> {
    return waitOf(await deploymentsAsync.latestDeploymentDecision(reader, d, beforeSeq));
  }

  /**
   * Whether the agent behind a deployment's request has a revoke signal in the state store (which
   * holds before the ledger has the revocation); `unreadable` when the store cannot say.
   */
  async revokeSignal(d: DeploymentApprovalKey): Promise<RevokeSignal> {
    const wait = await this.latest(d);
    if (!wait) return 'none';
    try {
      return (await this.governance.state.getRevokeSignal(wait.request.agentId)) ? 'revoked' : 'none';
    } catch {
      return 'unreadable';
    }
  }

  /** The votes counted on a request, in the order given. */
  async votes(
    wait: DeploymentWait,
    reader = this.governance.store.reader,
  ): Promise<(DeploymentVote & { reason: string })[]> {
    return (await deploymentsAsync.deploymentVotes(reader, wait.request.key, wait.seq)).map(voteOf);
  }

  /** The gate's tally for a request, over the votes given. */
  tally(
    wait: DeploymentWait,
    votes: readonly DeploymentVote[],
    now = this.governance.clock.now(),
  ): GateTally {
    return tallyDeployment(wait.request, [...votes], this.governance.directory(), now);
  }

  /**
   * Rejects the waiting deployments whose gate expired (`on_expiry: reject`; expiry never approves)
   * or that nobody left may approve; returns how many. Each is decided again from the ledger as its
   * answer extends it (`store.appendDecided`), so two processes answer it once.
   */
  async expire(now: Date): Promise<number> {
    const { store } = this.governance;
    let answered = 0;
    for (const stored of await deploymentsAsync.waitingDeploymentRequests(store.reader)) {
      const waiting = waitOf(stored);
      if (!waiting) continue;
      const appended = await store.appendDecided(async ({ reader }) => {
        const wait = waitOf(await deploymentsAsync.latestDeploymentDecision(reader, waiting.decided));
        if (!wait || wait.seq !== waiting.seq) return []; // answered meanwhile
        const votes = await deploymentsAsync.deploymentVotes(reader, wait.request.key, wait.seq);
        const tally = tallyDeployment(wait.request, votes.map(voteOf), this.governance.directory(), now);
        if (deploymentAnswer(tally) !== 'rejected') return [];
        const { entry, outbox } = answerOf(
          wait,
          'rejected',
          tally.description,
          'expiry',
          `expiry:${wait.seq}`,
        );
        return { entries: [entry], outbox };
      });
      answered += appended.length;
    }
    return answered;
  }
}

function voteOf(v: {
  ts: string;
  payload: LedgerPayload<'deployment.vote'>;
}): DeploymentVote & { reason: string } {
  return { approver: v.payload.approver, verdict: v.payload.verdict, reason: v.payload.reason, at: v.ts };
}

/** The `deployment.decided` entry answering a waiting deployment, and the call that gives GitHub the answer. */
export function answerOf(
  wait: DeploymentWait,
  state: 'approved' | 'rejected',
  why: string,
  actor: string,
  cause: string,
): { entry: LedgerEntryInput; outbox: OutboxMessageInput[] } {
  const d = wait.decided;
  const reasons = [...d.reasons, why];
  const comment = `Agent Governance: ${state === 'approved' ? 'Approved' : 'Rejected'}: ${reasons.join('; ')}.`;
  const [owner, repo] = d.repository.split('/') as [string, string];
  const answer = {
    installationId: d.installationId,
    owner,
    repo,
    runId: d.runId,
    environment: d.environment,
    state,
    comment: comment.slice(0, 1000),
  };
  return {
    entry: {
      type: 'deployment.decided',
      agentId: wait.request.agentId,
      actor,
      payload: { ...d, state, reasons },
    },
    outbox: [deploymentReviewMessage(answer, cause)],
  };
}

/** A stored entry as a request for people, or null when it carries none. */
export function waitOf(stored: StoredDeploymentDecision | null): DeploymentWait | null {
  const approval = stored?.payload.approval;
  if (!stored || !approval) return null;
  const request: DeploymentRequest = {
    key: approval.key,
    agentId: approval.agentId,
    owner: approval.owner,
    rule: approval.rule,
    requestedAt: approval.requestedAt,
  };
  return { seq: stored.seq, decided: stored.payload, request };
}
