/**
 * The approval card of a deployment waiting on a gate, and what its ledger entries call for in
 * Slack: the card posted when the deployment begins to wait, moved by each vote, and closed (no
 * buttons, how it ended) when it is answered: by the votes, at its deadline, or by the kill switch.
 * Run by the consequences follower in its decision: reads through its reader, only outbox calls. A card
 * is found again by its message key (the deployment's approval key) when its update is delivered,
 * so an update queued before the card was posted still reaches it.
 */
import { parseDeploymentApprovalKey } from '../core/approval-key.js';
import type { LedgerEntry } from '../core/ledger-entries.js';
import type { GateTally } from '../core/policy/gate-tally.js';
import { type TierId, tierLabel } from '../core/tiers.js';
import type { DeploymentApprovals, DeploymentWait } from '../governance/deployment-approvals.js';
import type { Governance } from '../governance/governance.js';
import type { LedgerReader } from '../ledger/ledger-reader.js';
import type { OutboxMessageInput } from '../ledger/outbox.js';
import { type CardOutcome, escapeMrkdwn, standingBlocks, type Vote } from './blocks.js';

type Block = Record<string, unknown>;
const mrkdwn = (text: string) => ({ type: 'mrkdwn', text });

export class DeploymentCards {
  constructor(
    private readonly governance: Governance,
    private readonly deployments: DeploymentApprovals,
  ) {}

  async callsForEntry(entry: LedgerEntry, reader: LedgerReader): Promise<OutboxMessageInput[]> {
    const channel = this.governance.config.slack.approvals_channel;
    if (!channel) return [];
    if (entry.type === 'deployment.vote') {
      const ref = parseDeploymentApprovalKey(entry.payload.approvalKey);
      const wait = ref ? await this.deployments.latest(ref, entry.payload.requestSeq + 1, reader) : null;
      return wait ? [await this.update(reader, wait, `vote:${entry.seq}`, this.governance.clock.now())] : [];
    }
    if (entry.type !== 'deployment.decided') return [];
    const d = entry.payload;
    if (d.state === 'waiting') {
      const wait = d.approval ? await this.deployments.latest(d, entry.seq + 1, reader) : null;
      return wait ? [await this.post(reader, wait, channel)] : [];
    }
    // An answer to a request that waited (or a re-run answered at once): its card says how it ended.
    const wait = await this.deployments.latest(d, entry.seq, reader);
    if (wait?.decided.state !== 'waiting') return [];
    const why = d.state === 'rejected' ? d.reasons.at(-1) : undefined;
    return [await this.update(reader, wait, `decided:${entry.seq}`, new Date(entry.ts), d.state, why)];
  }

  private async post(
    reader: LedgerReader,
    wait: DeploymentWait,
    channel: string,
  ): Promise<OutboxMessageInput> {
    const votes = await this.deployments.votes(wait, reader);
    const tally = this.deployments.tally(wait, votes, this.governance.clock.now());
    const d = wait.decided;
    return {
      target: 'slack',
      kind: 'chat.postMessage',
      idempotencyKey: `slack:deployment:${wait.request.key}:${wait.seq}`,
      orderingKey: `approval:${wait.request.key}`,
      payload: {
        channel,
        text: `Deployment approval needed: ${d.repository} to ${d.environment} by ${wait.request.agentId}`,
        blocks: deploymentRequestBlocks(viewOf(wait, tally), [], 'pending', [tally]),
        messageKey: wait.request.key,
      },
    };
  }

  /** The card moved in place: the votes so far and the tally, or how the request ended. */
  private async update(
    reader: LedgerReader,
    wait: DeploymentWait,
    cause: string,
    at: Date,
    answered?: 'approved' | 'rejected',
    why?: string,
  ): Promise<OutboxMessageInput> {
    const votes = await this.deployments.votes(wait, reader);
    const tally = this.deployments.tally(wait, votes, at);
    const outcome: CardOutcome =
      answered ??
      (tally.state === 'approved' ? 'approved' : tally.state === 'waiting' ? 'pending' : 'rejected');
    const d = wait.decided;
    return {
      target: 'slack',
      kind: 'chat.update',
      idempotencyKey: `slack:deployment:${wait.request.key}:${wait.seq}:${cause}`,
      orderingKey: `approval:${wait.request.key}`,
      payload: {
        text: `Deployment approval for ${d.repository} to ${d.environment}: ${outcome}`,
        blocks: deploymentRequestBlocks(viewOf(wait, tally), votes, outcome, [tally], why),
        // Where the card is, looked up when this is delivered (after the post, in the same order).
        messageKey: wait.request.key,
      },
    };
  }
}

function viewOf(wait: DeploymentWait, tally: GateTally): DeploymentCardView {
  const d = wait.decided;
  return {
    approvalKey: wait.request.key,
    repository: d.repository,
    environment: d.environment,
    runId: d.runId,
    agentId: wait.request.agentId,
    tier: d.tier,
    ref: d.ref,
    reasons: d.reasons,
    expiresAt: tally.expiresAt,
  };
}

/** A deployment waiting on a gate, as its approval card shows it. */
export interface DeploymentCardView {
  /** The deployment's approval key: its buttons carry it back. */
  approvalKey: string;
  repository: string;
  environment: string;
  runId: number;
  agentId: string;
  tier: TierId | null;
  ref: string | null;
  /** Why it waits: each thing the deployment rule checked. */
  reasons: string[];
  expiresAt: string | null;
}

/**
 * The approval card of a deployment: the same buttons, tally and votes as a PR's card, with the
 * deployment's facts (repository, environment, run, agent, tier) in place of the PR's.
 */
export function deploymentRequestBlocks(
  d: DeploymentCardView,
  votes: Vote[],
  outcome: CardOutcome,
  tallies: readonly GateTally[] = [],
  closedBecause?: string,
): Block[] {
  const run = `https://github.com/${d.repository}/actions/runs/${d.runId}`;
  const facts: Block[] = [
    {
      type: 'header',
      text: {
        type: 'plain_text',
        text: `Deployment approval needed: ${d.repository} to ${d.environment}`.slice(0, 150),
      },
    },
    {
      type: 'section',
      text: mrkdwn(`*<${run}|Workflow run ${d.runId}>*${d.ref ? ` on \`${escapeMrkdwn(d.ref)}\`` : ''}`),
      fields: [
        mrkdwn(`*Agent*\n\`${d.agentId}\``),
        mrkdwn(`*Tier*\n${d.tier ? tierLabel(d.tier) : 'unknown'}`),
        mrkdwn(`*Environment*\n${escapeMrkdwn(d.environment)}`),
        mrkdwn(`*Repository*\n${escapeMrkdwn(d.repository)}`),
      ],
    },
    { type: 'section', text: mrkdwn(`*Why*\n${d.reasons.map((r) => `• ${escapeMrkdwn(r)}`).join('\n')}`) },
    {
      type: 'context',
      elements: [mrkdwn(`${d.expiresAt ? `Deadline ${d.expiresAt}; e` : 'E'}xpiry never approves.`)],
    },
  ];
  return [...facts, ...standingBlocks(d.approvalKey, votes, outcome, tallies, closedBecause)];
}
