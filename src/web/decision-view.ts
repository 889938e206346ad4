import type { ApprovalReceipt } from '../core/policy/decision.js';
import { type GateRule, type GateTally, tallyGate } from '../core/policy/gate-tally.js';
import type { Governance } from '../governance/governance.js';
import { agentStatus } from '../ledger/queries/agents.js';
import {
  type DecisionEntry,
  type DecisionViewQueries,
  decisionViewQueries,
  type ReceiptEntry,
} from '../ledger/queries/decision-views.js';
import { waitingSince } from '../ledger/queries/decisions.js';
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
  private readonly queries: DecisionViewQueries;

  constructor(
    private readonly governance: Governance,
    /** Shared by every page of the process, so views never repeat a full check. */
    readonly chain: ChainChecker = new ChainChecker(governance.ledger, { now: () => governance.clock.ms() }),
  ) {
    this.queries = decisionViewQueries(governance.ledger);
  }

  /** The repository as the ledger spells it, for a name typed in any case; null when none is known. */
  canonicalRepository(repository: string, number: number): string | null {
    return this.queries.canonicalRepository(repository, number);
  }

  /** The PR of the newest decision at a commit (a check run's link names the commit). */
  pullRequestAt(repositoryAsTyped: string, headSha: string): { repository: string; number: number } | null {
    return this.queries.pullRequestAt(repositoryAsTyped, headSha);
  }

  /** `chain: false` skips the chain check (the fleet's list of waiting PRs needs only the gates). */
  read(
    repositoryAsTyped: string,
    number: number,
    now = this.governance.clock.now(),
    options = { chain: true },
  ): DecisionView | null {
    const repository = this.canonicalRepository(repositoryAsTyped, number);
    if (!repository) return null;
    const history = this.queries.decisions(repository, number);
    const latest = history.at(-1);
    if (!latest) return null;
    const receipts = this.queries.receipts(repository, number);
    const agent = latest.agentId ? this.agentOf(latest.agentId) : null;
    const gates = this.gatesOf(
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
      chain: options.chain ? this.chain.check(upTo) : { ok: true, upTo: 0 },
      now,
    };
  }

  /**
   * The gates at the PR's current head and policy. A decision records only the gates still waiting,
   * so a gate approved since appears in an earlier decision at the same head: each gate's newest rule.
   */
  private gatesOf(
    history: DecisionEntry[],
    latest: DecisionEntry,
    receipts: ApprovalReceipt[],
    owner: string | null,
    now: Date,
  ): GateView[] {
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
      requestedAt: waitingSince(
        this.governance.ledger,
        latest.payload.repository,
        latest.payload.number,
        p.headSha,
      ),
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

  private agentOf(agentId: string): { id: string; owner: string | null; status: string | null } {
    const owner = this.queries.agentOwner(agentId);
    return { id: agentId, owner, status: agentStatus(this.governance.ledger, agentId) };
  }
}
