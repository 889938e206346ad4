import type { Statement } from 'better-sqlite3';
import type { LedgerPayload } from '../../core/ledger-entries.js';
import type { ApprovalReceipt } from '../../core/policy/decision.js';
import type { EntryRow, Ledger } from '../ledger.js';
import { dbOf } from '../ledger.js';
import type { LedgerDb } from '../open-ledger-db.js';

export type DecisionPayload = LedgerPayload<'decision.recorded'>;

/** Where an entry stands in the chain, as a page shows it. */
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

/** The newest decision on a PR, for the list of recent decisions. */
export interface RecentDecision {
  repository: string;
  number: number;
  outcome: string;
  agentId: string | null;
  ts: string;
  title: string | null;
}

export type MergeGroupCheck = LedgerPayload<'merge_group.checked'> & { seq: number; ts: string };

type RefRow = Pick<EntryRow, 'seq' | 'ts' | 'type' | 'agent_id' | 'payload' | 'prev_hash' | 'hash'>;

/** The decision page's reads: a PR's decisions and receipts, its agent's owner, the chain under them. */
export class DecisionViewQueries {
  private readonly selectExact: Statement<[string, number], { repository: string }>;
  private readonly selectFolded: Statement<[number, string], { repository: string }>;
  private readonly selectAtCommit: Statement<[string, string], { repository: string; number: number }>;
  private readonly selectHistory: Statement<[string, number], RefRow>;
  private readonly selectReceipts: Statement<[string, number], RefRow>;
  private readonly selectOwner: Statement<[string], { payload: string }>;
  private readonly selectRecent: Statement<[], RecentRow>;
  private readonly selectMergeGroup: Statement<
    [string, string],
    { seq: number; ts: string; payload: string }
  >;
  private readonly selectEntries: Statement<[number, number], EntryRow>;

  constructor(db: LedgerDb) {
    const refs = 'SELECT e.seq, e.ts, e.type, e.agent_id, e.payload, e.prev_hash, e.hash';
    this.selectExact = db.prepare(
      'SELECT repository FROM decisions WHERE repository = ? AND number = ? LIMIT 1',
    );
    this.selectFolded = db.prepare(
      'SELECT repository FROM decisions WHERE number = ? AND lower(repository) = lower(?) LIMIT 1',
    );
    this.selectAtCommit = db.prepare(
      'SELECT repository, number FROM decisions WHERE lower(repository) = lower(?) AND head_sha = ? ORDER BY seq DESC LIMIT 1',
    );
    this.selectHistory = db.prepare(
      `${refs} FROM decisions d JOIN ledger_entries e ON e.seq = d.seq
        WHERE d.repository = ? AND d.number = ? ORDER BY d.seq`,
    );
    this.selectReceipts = db.prepare(
      `${refs} FROM approvals a JOIN ledger_entries e ON e.seq = a.seq
        WHERE a.repository = ? AND a.number = ? ORDER BY a.seq`,
    );
    this.selectOwner = db.prepare(
      `SELECT e.payload FROM agent_actions a JOIN ledger_entries e ON e.seq = a.seq
        WHERE a.agent_id = ? AND a.type = 'agent.registered' ORDER BY a.seq LIMIT 1`,
    );
    // SQLite-only: json_extract reads the title inside the payload (PostgreSQL: payload::json ->> 'title');
    // it spares parsing 500 whole decisions in JS for one field.
    this.selectRecent = db.prepare(
      `SELECT d.repository, d.number, d.outcome, d.agent_id, d.ts, json_extract(e.payload, '$.title') AS title
         FROM decisions d JOIN ledger_entries e ON e.seq = d.seq
        WHERE d.seq IN (SELECT MAX(seq) FROM decisions GROUP BY repository, number)
        ORDER BY d.seq DESC LIMIT 500`,
    );
    // SQLite-only: json_extract filters on fields inside the payload (PostgreSQL: payload::json ->> '…');
    // no projection holds merge groups, and filtering in JS would parse every one of them.
    this.selectMergeGroup = db.prepare(
      `SELECT seq, ts, payload FROM ledger_entries WHERE type = 'merge_group.checked'
          AND lower(json_extract(payload, '$.repository')) = lower(?) AND json_extract(payload, '$.headSha') = ?
        ORDER BY seq DESC LIMIT 1`,
    );
    this.selectEntries = db.prepare('SELECT * FROM ledger_entries WHERE seq > ? AND seq <= ? ORDER BY seq');
  }

  /** The repository as the ledger spells it, for a name typed in any case; null when none is known. */
  canonicalRepository(repository: string, number: number): string | null {
    const exact = this.selectExact.get(repository, number);
    if (exact) return exact.repository;
    return this.selectFolded.get(number, repository)?.repository ?? null;
  }

  /** The PR of the newest decision at a commit of a repository named in any case. */
  pullRequestAt(repositoryAsTyped: string, headSha: string): { repository: string; number: number } | null {
    const row = this.selectAtCommit.get(repositoryAsTyped, headSha);
    return row ? { repository: row.repository, number: row.number } : null;
  }

  /** Every decision on a PR, oldest first. */
  decisions(repository: string, number: number): DecisionEntry[] {
    return this.selectHistory.all(repository, number).map((r) => ({
      ...refOf(r),
      agentId: r.agent_id,
      payload: JSON.parse(r.payload) as DecisionPayload,
    }));
  }

  /** Every approval receipt on a PR, oldest first; a receipt's time is its entry's. */
  receipts(repository: string, number: number): ReceiptEntry[] {
    return this.selectReceipts.all(repository, number).map((r) => {
      const p = JSON.parse(r.payload) as LedgerPayload<'approval.recorded'>;
      return {
        ...refOf(r),
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
  }

  /** The owner an agent was first registered with; null when it has none or is not registered. */
  agentOwner(agentId: string): string | null {
    const row = this.selectOwner.get(agentId);
    return row ? ((JSON.parse(row.payload) as LedgerPayload<'agent.registered'>).owner ?? null) : null;
  }

  /** The newest decision of each of the 500 PRs decided last, newest first. */
  recentDecisions(): RecentDecision[] {
    return this.selectRecent.all().map((r) => ({
      repository: r.repository,
      number: r.number,
      outcome: r.outcome,
      agentId: r.agent_id,
      ts: r.ts,
      title: r.title,
    }));
  }

  /** The newest merge-queue verdict at a commit of a repository named in any case; null when none. */
  mergeGroupAt(repository: string, headSha: string): MergeGroupCheck | null {
    const row = this.selectMergeGroup.get(repository, headSha);
    return row
      ? { ...(JSON.parse(row.payload) as LedgerPayload<'merge_group.checked'>), seq: row.seq, ts: row.ts }
      : null;
  }

  /** The stored entries after `fromSeq` up to `upTo`, oldest first, read one at a time (for the chain check). */
  entriesBetween(fromSeq: number, upTo: number): IterableIterator<EntryRow> {
    return this.selectEntries.iterate(fromSeq, upTo);
  }
}

interface RecentRow {
  repository: string;
  number: number;
  outcome: string;
  agent_id: string | null;
  ts: string;
  title: string | null;
}

const cache = new WeakMap<LedgerDb, DecisionViewQueries>();

/** The decision page's queries of a ledger, their statements prepared once per database. */
export function decisionViewQueries(ledger: Ledger): DecisionViewQueries {
  let queries = cache.get(dbOf(ledger));
  if (!queries) {
    queries = new DecisionViewQueries(dbOf(ledger));
    cache.set(dbOf(ledger), queries);
  }
  return queries;
}

function refOf(r: RefRow): LedgerRef {
  return { seq: r.seq, ts: r.ts, type: r.type, hash: r.hash, prevHash: r.prev_hash };
}
