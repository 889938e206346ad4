import type { LedgerPayload } from '../../core/ledger-entries.js';
import type { ApprovalReceipt } from '../../core/policy/decision.js';
import type { EntryRow } from '../ledger.js';
import { perEngine } from '../ledger-reader.js';
import type { LedgerDb } from '../open-ledger-db.js';
import { allQuery, asyncReads, eachQuery, firstOf, getQuery, perDatabase } from './query.js';

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

interface RecentRow {
  repository: string;
  number: number;
  outcome: string;
  agent_id: string | null;
  ts: string;
  title: string | null;
}

type RepositoryOf = [repository: string, number: number];

const REFS = 'SELECT e.seq, e.ts, e.type, e.agent_id, e.payload, e.prev_hash, e.hash';

const queries = {
  canonicalRepository: firstOf(
    getQuery<RepositoryOf, { repository: string }, string | null>({
      sql: 'SELECT repository FROM decisions WHERE repository = ? AND number = ? LIMIT 1',
      map: (row) => row?.repository ?? null,
    }),
    getQuery<RepositoryOf, { repository: string }, string | null>({
      sql: perEngine(
        (d) =>
          `SELECT repository FROM decisions WHERE number = ? AND ${d.lower('repository')} = ${d.lower('?')}
            ORDER BY seq LIMIT 1`,
      ),
      bind: (repository, number) => [number, repository],
      map: (row) => row?.repository ?? null,
    }),
  ),
  pullRequestAt: getQuery<
    [repositoryAsTyped: string, headSha: string],
    { repository: string; number: number },
    { repository: string; number: number } | null
  >({
    sql: perEngine(
      (d) =>
        `SELECT repository, number FROM decisions WHERE ${d.lower('repository')} = ${d.lower('?')} AND head_sha = ? ORDER BY seq DESC LIMIT 1`,
    ),
    map: (row) => (row ? { repository: row.repository, number: row.number } : null),
  }),
  decisions: allQuery<[repository: string, number: number], RefRow, DecisionEntry[]>({
    sql: `${REFS} FROM decisions d JOIN ledger_entries e ON e.seq = d.seq
        WHERE d.repository = ? AND d.number = ? ORDER BY d.seq`,
    map: (rows) =>
      rows.map((r) => ({
        ...refOf(r),
        agentId: r.agent_id,
        payload: JSON.parse(r.payload) as DecisionPayload,
      })),
  }),
  receipts: allQuery<[repository: string, number: number], RefRow, ReceiptEntry[]>({
    sql: `${REFS} FROM approvals a JOIN ledger_entries e ON e.seq = a.seq
        WHERE a.repository = ? AND a.number = ? ORDER BY a.seq`,
    map: (rows) => rows.map(receiptOf),
  }),
  agentOwner: getQuery<[agentId: string], { payload: string }, string | null>({
    sql: `SELECT e.payload FROM agent_actions a JOIN ledger_entries e ON e.seq = a.seq
        WHERE a.agent_id = ? AND a.type = 'agent.registered' ORDER BY a.seq LIMIT 1`,
    map: (row) =>
      row ? ((JSON.parse(row.payload) as LedgerPayload<'agent.registered'>).owner ?? null) : null,
  }),
  // The title read inside the payload in SQL spares parsing 500 whole decisions in JS for one field.
  recentDecisions: allQuery<[], RecentRow, RecentDecision[]>({
    sql: perEngine(
      (
        d,
      ) => `SELECT d.repository, d.number, d.outcome, d.agent_id, d.ts, ${d.json('e.payload', 'title')} AS title
         FROM decisions d JOIN ledger_entries e ON e.seq = d.seq
        WHERE d.seq IN (SELECT MAX(seq) FROM decisions GROUP BY repository, number)
        ORDER BY d.seq DESC LIMIT 500`,
    ),
    map: (rows) =>
      rows.map((r) => ({
        repository: r.repository,
        number: r.number,
        outcome: r.outcome,
        agentId: r.agent_id,
        ts: r.ts,
        title: r.title,
      })),
  }),
  // No projection holds merge groups, and filtering in JS would parse every one of them.
  mergeGroupAt: getQuery<
    [repository: string, headSha: string],
    { seq: number; ts: string; payload: string },
    MergeGroupCheck | null
  >({
    sql: perEngine(
      (d) => `SELECT seq, ts, payload FROM ledger_entries WHERE type = 'merge_group.checked'
          AND ${d.lower(d.jsonText('payload', 'repository'))} = ${d.lower('?')} AND ${d.jsonIsText('payload', 'headSha')}
        ORDER BY seq DESC LIMIT 1`,
    ),
    map: (row) =>
      row
        ? { ...(JSON.parse(row.payload) as LedgerPayload<'merge_group.checked'>), seq: row.seq, ts: row.ts }
        : null,
  }),
  entriesBetween: eachQuery<[fromSeq: number, upTo: number], EntryRow, Iterable<EntryRow>>({
    sql: 'SELECT seq, ts, type, agent_id, actor, payload, prev_hash, hash FROM ledger_entries WHERE seq > ? AND seq <= ? ORDER BY seq',
    map: (rows) => rows,
  }),
};

/** The queries of this module on either engine, through a `LedgerReader`. */
export const decisionViewsAsync = asyncReads(queries);

/** The decision page's reads: a PR's decisions and receipts, its agent's owner, the chain under them. */
export class DecisionViewQueries {
  constructor(private readonly db: LedgerDb) {}

  /** The repository as the ledger spells it, for a name typed in any case; null when none is known. */
  canonicalRepository(repository: string, number: number): string | null {
    return queries.canonicalRepository.sync(this.db, repository, number);
  }

  /** The PR of the newest decision at a commit of a repository named in any case. */
  pullRequestAt(repositoryAsTyped: string, headSha: string): { repository: string; number: number } | null {
    return queries.pullRequestAt.sync(this.db, repositoryAsTyped, headSha);
  }

  /** Every decision on a PR, oldest first. */
  decisions(repository: string, number: number): DecisionEntry[] {
    return queries.decisions.sync(this.db, repository, number);
  }

  /** Every approval receipt on a PR, oldest first; a receipt's time is its entry's. */
  receipts(repository: string, number: number): ReceiptEntry[] {
    return queries.receipts.sync(this.db, repository, number);
  }

  /** The owner an agent was first registered with; null when it has none or is not registered. */
  agentOwner(agentId: string): string | null {
    return queries.agentOwner.sync(this.db, agentId);
  }

  /** The newest decision of each of the 500 PRs decided last, newest first. */
  recentDecisions(): RecentDecision[] {
    return queries.recentDecisions.sync(this.db);
  }

  /** The newest merge-queue verdict at a commit of a repository named in any case; null when none. */
  mergeGroupAt(repository: string, headSha: string): MergeGroupCheck | null {
    return queries.mergeGroupAt.sync(this.db, repository, headSha);
  }

  /** The stored entries after `fromSeq` up to `upTo`, oldest first, read one at a time (for the chain check). */
  entriesBetween(fromSeq: number, upTo: number): IterableIterator<EntryRow> {
    return queries.entriesBetween.sync(this.db, fromSeq, upTo) as IterableIterator<EntryRow>;
  }
}

/** The decision page's queries of a ledger, one per database. */
export const decisionViewQueries = perDatabase((db) => new DecisionViewQueries(db));

function refOf(r: RefRow): LedgerRef {
  return { seq: r.seq, ts: r.ts, type: r.type, hash: r.hash, prevHash: r.prev_hash };
}

function receiptOf(r: RefRow): ReceiptEntry {
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
}
