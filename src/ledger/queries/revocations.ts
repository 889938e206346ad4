/** What the kill switch reads: open PRs of an agent, its revocation history, Vault tokens issued to it. */
import type { LedgerSource } from '../ledger.js';
import { perEngine } from '../ledger-reader.js';
import { allQuery, asyncReads, getQuery } from './query.js';

export interface OpenPullRequest {
  repository: string;
  number: number;
  headSha: string;
  installationId: number;
}

export type RevocationRecord =
  | { type: 'revocation.requested'; seq: number; revocationId: string; reason: string; effects: string[] }
  | { type: 'revocation.effect'; seq: number; revocationId: string; effect: string; ok: boolean }
  | { type: 'revocation.confirmed'; seq: number; revocationId: string };

const queries = {
  openPullRequestsOf: allQuery<
    [agentId: string],
    { repository: string; number: number; head_sha: string; payload: string },
    OpenPullRequest[]
  >({
    sql: `SELECT d.repository, d.number, d.head_sha, e.payload FROM decisions d JOIN ledger_entries e ON e.seq = d.seq
       WHERE d.agent_id = ? AND d.seq = (SELECT MAX(seq) FROM decisions d2 WHERE d2.repository = d.repository AND d2.number = d.number)
         AND d.outcome != 'deny' ORDER BY d.seq`,
    map: (rows) => {
      const prs: OpenPullRequest[] = [];
      for (const r of rows) {
        const installationId = (JSON.parse(r.payload) as { installationId?: unknown }).installationId;
        if (typeof installationId === 'number')
          prs.push({ repository: r.repository, number: r.number, headSha: r.head_sha, installationId });
      }
      return prs;
    },
  }),
  revocationRecordsOf: allQuery<
    [agentId: string],
    { seq: number; type: RevocationRecord['type']; payload: string },
    RevocationRecord[]
  >({
    sql: `SELECT e.seq, e.type, e.payload FROM agent_actions a JOIN ledger_entries e ON e.seq = a.seq
       WHERE a.agent_id = ? AND a.type IN ('revocation.requested', 'revocation.effect', 'revocation.confirmed') ORDER BY a.seq`,
    map: (rows) => rows.map(revocationRecord),
  }),
  statusChangeBefore: getQuery<[agentId: string, beforeSeq: number], { seq: number | null }, number>({
    sql: `SELECT MAX(seq) AS seq FROM agent_actions WHERE agent_id = ? AND type = 'agent.status_changed' AND seq < ?`,
    map: (row) => row?.seq ?? 0,
  }),
  unconfirmedRevocations: allQuery<[], { agent_id: string }, string[]>({
    sql: perEngine(
      (d) => `SELECT m.agent_id FROM agent_metrics m WHERE m.status = 'revoked' AND NOT EXISTS (
           SELECT 1 FROM agent_actions c WHERE c.agent_id = m.agent_id AND c.type = 'revocation.confirmed'
             AND c.seq > (SELECT MAX(r.seq) FROM agent_actions r WHERE r.agent_id = m.agent_id AND r.type = 'revocation.requested'))
         ORDER BY ${d.byText('m.agent_id')}`,
    ),
    map: (rows) => rows.map((r) => r.agent_id),
  }),
  vaultAccessorsOf: allQuery<[agentId: string], { payload: string }, string[]>({
    sql: `SELECT e.payload FROM agent_actions a JOIN ledger_entries e ON e.seq = a.seq
       WHERE a.agent_id = ? AND a.type = 'vault.token_issued' ORDER BY a.seq`,
    map: (rows) =>
      rows
        .map((r) => (JSON.parse(r.payload) as { accessor?: unknown }).accessor)
        .filter((a): a is string => typeof a === 'string'),
  }),
  statusChangeAfter: getQuery<[agentId: string, afterSeq: number], { seq: number | null }, number | null>({
    sql: `SELECT MIN(seq) AS seq FROM agent_actions WHERE agent_id = ? AND type = 'agent.status_changed' AND seq > ?`,
    map: (row) => row?.seq ?? null,
  }),
  latestRevokingChanges: allQuery<
    [],
    { seq: number; agent_id: string; actor: string; payload: string },
    { agentId: string; seq: number; reason: string; actor: string }[]
  >({
    sql: `SELECT e.seq, e.agent_id, e.actor, e.payload FROM agent_metrics m
         JOIN agent_actions a ON a.agent_id = m.agent_id AND a.type = 'agent.status_changed'
         JOIN ledger_entries e ON e.seq = a.seq
        WHERE m.status = 'revoked'
          AND a.seq = (SELECT MAX(seq) FROM agent_actions x WHERE x.agent_id = m.agent_id AND x.type = 'agent.status_changed')
        ORDER BY e.seq`,
    map: (rows) =>
      rows.map((r) => ({
        agentId: r.agent_id,
        seq: r.seq,
        actor: r.actor,
        reason: String((JSON.parse(r.payload) as { reason?: unknown }).reason ?? ''),
      })),
  }),
};

/** The queries of this module on either engine, through a `LedgerReader`. */
export const revocationsAsync = asyncReads(queries);

function revocationRecord(row: {
  seq: number;
  type: RevocationRecord['type'];
  payload: string;
}): RevocationRecord {
  const p = JSON.parse(row.payload) as Record<string, unknown>;
  const revocationId = String(p.revocationId);
  if (row.type === 'revocation.requested')
    return {
      type: row.type,
      seq: row.seq,
      revocationId,
      reason: String(p.reason),
      effects: (p.effects as unknown[]).map(String),
    };
  if (row.type === 'revocation.effect')
    return { type: row.type, seq: row.seq, revocationId, effect: String(p.effect), ok: p.ok === true };
  return { type: row.type, seq: row.seq, revocationId };
}

/** PRs whose latest decision is the agent's and not a denial: their checks must fail on revocation. */
export function openPullRequestsOf(store: LedgerSource, agentId: string): OpenPullRequest[] {
  return queries.openPullRequestsOf.sync(store, agentId);
}

/** An agent's revocation entries, oldest first. */
export function revocationRecordsOf(store: LedgerSource, agentId: string): RevocationRecord[] {
  return queries.revocationRecordsOf.sync(store, agentId);
}

/** The seq of the agent's last status change before `beforeSeq`, or 0. */
export function statusChangeBefore(store: LedgerSource, agentId: string, beforeSeq: number): number {
  return queries.statusChangeBefore.sync(store, agentId, beforeSeq);
}

/** Revoked agents whose newest revocation is not confirmed yet. */
export function unconfirmedRevocations(store: LedgerSource): string[] {
  return queries.unconfirmedRevocations.sync(store);
}

/** The accessors of every Vault token issued to the agent (revoked with it). */
export function vaultAccessorsOf(store: LedgerSource, agentId: string): string[] {
  return queries.vaultAccessorsOf.sync(store, agentId);
}

/** The seq of the agent's first status change after `afterSeq`, or null. */
export function statusChangeAfter(store: LedgerSource, agentId: string, afterSeq: number): number | null {
  return queries.statusChangeAfter.sync(store, agentId, afterSeq);
}

/** Each revoked agent's newest status change (the one to revoked), with its reason and actor. */
export function latestRevokingChanges(
  store: LedgerSource,
): { agentId: string; seq: number; reason: string; actor: string }[] {
  return queries.latestRevokingChanges.sync(store);
}
