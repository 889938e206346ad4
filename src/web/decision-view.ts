import type { LedgerPayload } from '../core/ledger-entries.js';
import type { ApprovalReceipt } from '../core/policy/decision.js';
import { type GateRule, type GateTally, tallyGate } from '../core/policy/gate-tally.js';
import type { Governance } from '../governance/governance.js';
import { type ChainCheck, ChainChecker } from './chain-check.js';

type DecisionPayload = LedgerPayload<'decision.recorded'>;

export interface LedgerRef {
  seq: number;
  ts: string;
  type: string;
  hash: string;
  prevHash: string;
}

export interface DecisionEntry extends LedgerRef {
  payload: DecisionPayload;
  agentId: string | null;
}

export interface ReceiptEntry extends LedgerRef {
  receipt: ApprovalReceipt;
}

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

interface Row {
  seq: number;
  ts: string;
  type: string;
  agent_id: string | null;
  payload: string;
  prev_hash: string;
  hash: string;
}

/**
 * Reads a PR's decisions, receipts and gates. The gates are tallied by the one tally
 * (`tallyGate`) with each gate's rule as the decisions recorded it, over every receipt on the PR,
 * exactly as the check and the Slack card tally them.
 */
export class DecisionViews {
  constructor(
    private readonly governance: Governance,
    /** Shared by every page of the process, so views never repeat a full check. */
    readonly chain: ChainChecker = new ChainChecker(governance.ledger.db),
  ) {}

  /** The repository as the ledger spells it, for a name typed in any case; null when none is known. */
  canonicalRepository(repository: string, number: number): string | null {
    const db = this.governance.ledger.db;
    const exact = db
      .prepare('SELECT repository FROM decisions WHERE repository = ? AND number = ? LIMIT 1')
      .get(repository, number) as { repository: string } | undefined;
    if (exact) return exact.repository;
    const folded = db
      .prepare('SELECT repository FROM decisions WHERE number = ? AND lower(repository) = lower(?) LIMIT 1')
      .get(number, repository) as { repository: string } | undefined;
    return folded?.repository ?? null;
  }

  /** The PR of the newest decision at a commit (a check run's link names the commit). */
  pullRequestAt(repositoryAsTyped: string, headSha: string): { repository: string; number: number } | null {
    const row = this.governance.ledger.db
      .prepare(
        'SELECT repository, number FROM decisions WHERE lower(repository) = lower(?) AND head_sha = ? ORDER BY seq DESC LIMIT 1',
      )
      .get(repositoryAsTyped, headSha) as { repository: string; number: number } | undefined;
    return row ?? null;
  }

  /** `chain: false` skips the chain check (the fleet's list of waiting PRs needs only the gates). */
  read(
    repositoryAsTyped: string,
    number: number,
    now = new Date(),
    options = { chain: true },
  ): DecisionView | null {
    const repository = this.canonicalRepository(repositoryAsTyped, number);
    if (!repository) return null;
    const db = this.governance.ledger.db;
    const history = (
      db
        .prepare(
          `SELECT e.seq, e.ts, e.type, e.agent_id, e.payload, e.prev_hash, e.hash FROM decisions d
             JOIN ledger_entries e ON e.seq = d.seq WHERE d.repository = ? AND d.number = ? ORDER BY d.seq`,
        )
        .all(repository, number) as Row[]
    ).map((r) => ({ ...ref(r), agentId: r.agent_id, payload: JSON.parse(r.payload) as DecisionPayload }));
    const latest = history.at(-1);
    if (!latest) return null;
    const receipts = (
      db
        .prepare(
          `SELECT e.seq, e.ts, e.type, e.agent_id, e.payload, e.prev_hash, e.hash FROM approvals a
             JOIN ledger_entries e ON e.seq = a.seq WHERE a.repository = ? AND a.number = ? ORDER BY a.seq`,
        )
        .all(repository, number) as Row[]
    ).map((r) => {
      const p = JSON.parse(r.payload) as LedgerPayload<'approval.recorded'>;
      return {
        ...ref(r),
        receipt: {
          approver: p.approver,
          verdict: p.verdict,
          gate: p.gate,
          headSha: p.headSha,
          diffHash: p.diffHash,
          policyVersion: p.policyVersion,
          source: p.source,
          at: r.ts,
        },
      };
    });
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
      requestedAt: this.governance.waitingSince(latest.payload.repository, latest.payload.number, p.headSha),
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
    const db = this.governance.ledger.db;
    const registered = db
      .prepare(
        `SELECT e.payload FROM agent_actions a JOIN ledger_entries e ON e.seq = a.seq
          WHERE a.agent_id = ? AND a.type = 'agent.registered' ORDER BY a.seq LIMIT 1`,
      )
      .get(agentId) as { payload: string } | undefined;
    const owner = registered
      ? ((JSON.parse(registered.payload) as { owner: string | null }).owner ?? null)
      : null;
    return { id: agentId, owner, status: this.governance.statusInLedger(agentId) };
  }
}

function ref(r: Row): LedgerRef {
  return { seq: r.seq, ts: r.ts, type: r.type, hash: r.hash, prevHash: r.prev_hash };
}
