import type { ApprovalReceipt } from '../core/policy/decision.js';
import { type GateRule, type GateTally, tallyGate } from '../core/policy/gate-tally.js';
import type { Governance } from '../governance/governance.js';
import type { LedgerReader } from '../ledger/ledger-reader.js';
import { agentsAsync } from '../ledger/queries/agents.js';
import {
  type DecisionEntry,
  decisionViewsAsync,
  type ReceiptEntry,
} from '../ledger/queries/decision-views.js';
import { decisionsAsync } from '../ledger/queries/decisions.js';
import { type ChainCheck, ChainChecker } from './chain-check.js';

export type { DecisionEntry, LedgerRef, ReceiptEntry } from '../ledger/queries/decision-views.js';

export interface GateView {
  rule: GateRule;
  tally: GateTally;
  /** The receipts that count toward the gate, each with the head and policy it was given under. */
  counted: ApprovalReceipt[];
}

/** Everything the decision page shows about one PR, read from the ledger. */
export interface DecisionView {
  repository: string;
  number: number;
  latest: DecisionEntry;
  /** Every decision on the PR, oldest first. */
  history: DecisionEntry[];
  receipts: ReceiptEntry[];
  gates: GateView[];
  agent: { id: string; owner: string | null; status: string | null } | null;
  chain: ChainCheck;
  now: Date;
}

/**
 * Reads a PR's decisions, receipts and gates. The gates are tallied by the one tally
 * (`tallyGate`) with each gate's rule as the decisions recorded it, over every receipt on the PR,
 * exactly as the check and the Slack card tally them.
 */
export class DecisionViews {
  private readonly reader: LedgerReader;

  constructor(
    private readonly governance: Governance,
    /** Shared by every page of the process, so views never repeat a full check. */
    readonly chain: ChainChecker = new ChainChecker(governance.store.reader, {
      now: () => governance.clock.ms(),
    }),
  ) {
    this.reader = governance.store.reader;
  }

  /** The repository as the ledger spells it, for a name typed in any case; null when none is known. */
  canonicalRepository(repository: string, number: number): Promise<string | null> {
    return decisionViewsAsync.canonicalRepository(this.reader, repository, number);
  }

  /** The PR of the newest decision at a commit (a check run's link names the commit). */
  pullRequestAt(
    repositoryAsTyped: string,
    headSha: string,
  ): Promise<{ repository: string; number: number } | null> {
    return decisionViewsAsync.pullRequestAt(this.reader, repositoryAsTyped, headSha);
  }

  /** `chain: false` skips the chain check (the fleet's list of waiting PRs needs only the gates). */
  async read(
    repositoryAsTyped: string,
    number: number,
    now = this.governance.clock.now(),
    options = { chain: true },
  ): Promise<DecisionView | null> {
    const repository = await this.canonicalRepository(repositoryAsTyped, number);
    if (!repository) return null;
    const history = await decisionViewsAsync.decisions(this.reader, repository, number);
    const latest = history.at(-1);
    if (!latest) return null;
    const receipts = await decisionViewsAsync.receipts(this.reader, repository, number);
    const agent = latest.agentId ? await this.agentOf(latest.agentId) : null;
    const gates = await this.gatesOf(
      history,
      latest,
      receipts.map((r) => r.receipt),
      agent?.owner ?? null,
      now,
    );
    const upTo = Math.max(latest.seq, ...receipts.map((r) => r.seq));
    return {
      repository,
      number,
      latest,
      history,
      receipts,
      gates,
      agent,
      chain: options.chain ? await this.chain.check(upTo) : { ok: true, upTo: 0 },
      now,
    };
  }

  /**
   * The gates at the PR's current head and policy. A decision records only the gates still waiting,
   * so a gate approved since appears in an earlier decision at the same head: each gate's newest rule.
   */
  private async gatesOf(
    history: DecisionEntry[],
    latest: DecisionEntry,
    receipts: ApprovalReceipt[],
    owner: string | null,
    now: Date,
  ): Promise<GateView[]> {
    if (latest.payload.outcome === 'not_agent') return [];
    const rules = new Map<string, GateRule>();
    for (const d of history) {
      if (d.payload.headSha !== latest.payload.headSha) continue;
      if (d.payload.policyVersion !== latest.payload.policyVersion) continue;
      for (const g of d.payload.gates ?? []) rules.set(g.gate, g);
    }
    const p = latest.payload;
    const subject = {
      headSha: p.headSha,
      diffHash: p.diffHash,
      policyVersion: p.policyVersion,
      owner,
      excluded: p.author
        ? [{ login: p.author, reason: 'the author of a pull request never approves it' }]
        : [],
      requestedAt: await decisionsAsync.waitingSince(this.reader, p.repository, p.number, p.headSha),
    };
    const directory = this.governance.directory();
    return [...rules.values()].map((rule) => {
      const tally = tallyGate(rule, receipts, subject, directory, now);
      const approvers = new Set(tally.approvedBy);
      // The newest approving receipt of each counted approver for this gate: what the page shows.
      const counted = [...receipts]
        .reverse()
        .filter((r) => r.verdict === 'approve' && (r.gate === null || r.gate === rule.gate))
        .filter((r) => subject.policyVersion === null || r.policyVersion === subject.policyVersion)
        .filter((r) => rule.survivePush || r.headSha === subject.headSha)
        .filter((r) => approvers.delete(r.approver));
      return { rule, tally, counted: counted.reverse() };
    });
  }

  private async agentOf(
    agentId: string,
  ): Promise<{ id: string; owner: string | null; status: string | null }> {
    const owner = await decisionViewsAsync.agentOwner(this.reader, agentId);
    return { id: agentId, owner, status: await agentsAsync.agentStatus(this.reader, agentId) };
  }
}
