import type { LedgerPayload } from '../../core/ledger-entries.js';
import { dbOf, type LedgerSource } from '../ledger.js';
import type { LedgerDb } from '../open-ledger-db.js';

type BadOutcome = LedgerPayload<'pr.bad_outcome'>['outcome'];

/** An agent's merged PR, as its `pr.merged` entry records it. */
export interface MergedPullRequest {
  agentId: string | null;
  number: number;
  headSha: string;
}

interface MergedRow {
  agent_id: string | null;
  number: number;
  head_sha: string;
}

// Every `pr.merged` entry is read to find one PR's: matching the JSON in SQL is about three times
// faster than parsing each payload here (measured over 50,000 merges).
const MERGED = `-- SQLite-only: json_extract (PostgreSQL: payload::jsonb ->> 'field')
  SELECT agent_id, json_extract(payload, '$.number') AS number, json_extract(payload, '$.headSha') AS head_sha
    FROM ledger_entries WHERE type = 'pr.merged' AND json_extract(payload, '$.repository') = ?`;

function prepare(db: LedgerDb) {
  return {
    lastBad: db.prepare<[string], { ts: string | null }>(
      "SELECT MAX(ts) AS ts FROM ledger_entries WHERE type = 'pr.bad_outcome' AND agent_id = ?",
    ),
    badSince: db.prepare<[string, string], { ts: string; payload: string }>(
      "SELECT ts, payload FROM ledger_entries WHERE type = 'pr.bad_outcome' AND agent_id = ? AND ts >= ? ORDER BY seq",
    ),
    allBad: db.prepare<[], { payload: string }>(
      "SELECT payload FROM ledger_entries WHERE type = 'pr.bad_outcome'",
    ),
    mergedByNumber: db.prepare<[string, number], MergedRow>(
      `${MERGED}
          AND json_extract(payload, '$.number') = ? ORDER BY seq DESC LIMIT 1`,
    ),
    mergedBySha: db.prepare<[string, string, string], MergedRow>(
      `${MERGED}
          AND (json_extract(payload, '$.mergeCommitSha') = ? OR json_extract(payload, '$.headSha') = ?)
        ORDER BY seq DESC LIMIT 1`,
    ),
  };
}

const cache = new WeakMap<LedgerDb, ReturnType<typeof prepare>>();
const statements = (db: LedgerDb) => cache.get(db) ?? cache.set(db, prepare(db)).get(db)!;

/** When the agent's newest bad outcome was recorded, if any. */
export function lastBadOutcomeAt(store: LedgerSource, agentId: string): string | null {
  const db = dbOf(store);
  return statements(db).lastBad.get(agentId)?.ts ?? null;
}

/** The agent's bad outcomes since `since`, oldest first, each as `owner/repo#number evidence`. */
export function badOutcomesSince(
  store: LedgerSource,
  agentId: string,
  since: string,
): { ts: string; evidence: string }[] {
  const db = dbOf(store);
  return statements(db)
    .badSince.all(agentId, since)
    .map((r) => {
      const p = JSON.parse(r.payload) as LedgerPayload<'pr.bad_outcome'>;
      return { ts: r.ts, evidence: `${p.repository}#${p.number} ${p.evidence}` };
    });
}

/** Whether this bad outcome of the PR was counted already. */
export function badOutcomeCounted(
  store: LedgerSource,
  repository: string,
  number: number,
  outcome: BadOutcome,
): boolean {
  const db = dbOf(store);
  for (const row of statements(db).allBad.iterate()) {
    const p = JSON.parse(row.payload) as LedgerPayload<'pr.bad_outcome'>;
    if (p.repository === repository && p.number === number && p.outcome === outcome) return true;
  }
  return false;
}

/** The newest `pr.merged` entry of the PR `which` names: by number, or by its merge or head commit. */
export function mergedPullRequest(
  store: LedgerSource,
  repository: string,
  which: { number: number } | { sha: string },
): MergedPullRequest | null {
  const db = dbOf(store);
  const s = statements(db);
  const row =
    'number' in which
      ? s.mergedByNumber.get(repository, which.number)
      : s.mergedBySha.get(repository, which.sha, which.sha);
  return row ? { agentId: row.agent_id, number: row.number, headSha: row.head_sha } : null;
}
