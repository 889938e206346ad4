import type { LedgerPayload } from '../../core/ledger-entries.js';
import type { AgentStatus } from '../../core/lifecycle.js';
import type { TierId } from '../../core/tiers.js';
import type { LedgerSource } from '../ledger.js';
import { perEngine } from '../ledger-reader.js';
import { allQuery, asyncReads, getQuery, questions, runQuery } from './query.js';

/** An agent's row of the `agent_metrics` projection: what promotion and suggestions judge it on. */
export interface AgentMetrics {
  agentId: string;
  tier: TierId;
  status: AgentStatus;
  tierSince: string;
  mergedPrsAtTier: number;
  lastSeriousViolationAt: string | null;
}

/** What the agent API checks a token against, read from the ledger rather than the state store. */
export interface AgentCredentials {
  tier: TierId;
  status: AgentStatus;
  registeredAt: string;
  tierSince: string;
  tokenHash: string | null;
}

/** The session state an agent saved last, to resume from. */
export interface SessionCheckpoint {
  seq: number;
  savedAt: string;
  state: unknown;
}

interface MetricsRow {
  agent_id: string;
  tier: TierId;
  status: AgentStatus;
  tier_since: string;
  merged_prs_at_tier: number;
  last_serious_violation_at: string | null;
}

const METRICS =
  'SELECT agent_id, tier, status, tier_since, merged_prs_at_tier, last_serious_violation_at FROM agent_metrics';

const queries = {
  agentMetrics: getQuery<[agentId: string], MetricsRow, AgentMetrics | null>({
    sql: `${METRICS} WHERE agent_id = ?`,
    map: (row) => (row ? toMetrics(row) : null),
  }),
  allAgentMetrics: allQuery<[], MetricsRow, AgentMetrics[]>({
    sql: perEngine((d) => `${METRICS} ORDER BY ${d.byText('agent_id')}`),
    map: (rows) => rows.map(toMetrics),
  }),
  agentStatus: getQuery<[agentId: string], { status: AgentStatus }, AgentStatus | null>({
    sql: 'SELECT status FROM agent_metrics WHERE agent_id = ?',
    map: (row) => row?.status ?? null,
  }),
  agentCredentials: getQuery<
    [agentId: string],
    {
      tier: TierId;
      status: AgentStatus;
      registered_at: string;
      tier_since: string;
      token_hash: string | null;
    },
    AgentCredentials | null
  >({
    sql: 'SELECT tier, status, registered_at, tier_since, token_hash FROM agent_metrics WHERE agent_id = ?',
    map: (row) =>
      row
        ? {
            tier: row.tier,
            status: row.status,
            registeredAt: row.registered_at,
            tierSince: row.tier_since,
            tokenHash: row.token_hash,
          }
        : null,
  }),
  agentOwner: getQuery<[agentId: string], { payload: string }, string | null>({
    sql: `SELECT e.payload FROM ledger_entries e JOIN agent_actions a ON a.seq = e.seq
        WHERE a.agent_id = ? AND a.type = 'agent.registered' ORDER BY a.seq LIMIT 1`,
    map: (row) => (row ? (JSON.parse(row.payload) as LedgerPayload<'agent.registered'>).owner : null),
  }),
  latestRevocationId: getQuery<[agentId: string], { payload: string }, string | null>({
    sql: "SELECT payload FROM ledger_entries WHERE type = 'revocation.requested' AND agent_id = ? ORDER BY seq DESC LIMIT 1",
    map: (row) =>
      row ? (JSON.parse(row.payload) as LedgerPayload<'revocation.requested'>).revocationId : null,
  }),
  saveSessionCheckpoint: runQuery<[seq: number, agentId: string, state: string, savedAt: string]>(
    'INSERT INTO session_checkpoints (seq, agent_id, state, created_at) VALUES (?, ?, ?, ?)',
  ),
  latestSessionCheckpoint: getQuery<
    [agentId: string],
    { seq: number; state: string; created_at: string },
    SessionCheckpoint | null
  >({
    sql: 'SELECT seq, state, created_at FROM session_checkpoints WHERE agent_id = ? ORDER BY seq DESC LIMIT 1',
    map: (row) => (row ? { seq: row.seq, savedAt: row.created_at, state: JSON.parse(row.state) } : null),
  }),
};

/** The queries of this module on either engine, through a `LedgerReader`. */
export const agentsAsync = asyncReads(queries);

/** The same queries as questions a decision asks (`AsyncLedger.appendAnswered`). */
export const agentQuestions = questions(queries);

function toMetrics(row: MetricsRow): AgentMetrics {
  return {
    agentId: row.agent_id,
    tier: row.tier,
    status: row.status,
    tierSince: row.tier_since,
    mergedPrsAtTier: row.merged_prs_at_tier,
    lastSeriousViolationAt: row.last_serious_violation_at,
  };
}

export function agentMetrics(store: LedgerSource, agentId: string): AgentMetrics | null {
  return queries.agentMetrics.sync(store, agentId);
}

/** Every agent's metrics, by id. */
export function allAgentMetrics(store: LedgerSource): AgentMetrics[] {
  return queries.allAgentMetrics.sync(store);
}

/**
 * The agent's status as the ledger records it (null for an unknown agent). Read inside a write
 * transaction, it cannot change before that transaction ends.
 */
export function agentStatus(store: LedgerSource, agentId: string): AgentStatus | null {
  return queries.agentStatus.sync(store, agentId);
}

export function agentCredentials(store: LedgerSource, agentId: string): AgentCredentials | null {
  return queries.agentCredentials.sync(store, agentId);
}

/** The owner the agent was registered with (null when it has none, or is unknown). */
export function agentOwner(store: LedgerSource, agentId: string): string | null {
  return queries.agentOwner.sync(store, agentId);
}

/** The id of the agent's newest revocation, if it was ever revoked. */
export function latestRevocationId(store: LedgerSource, agentId: string): string | null {
  return queries.latestRevocationId.sync(store, agentId);
}

/** Stores the state of `session.checkpoint_saved` entry `seq`; `state` is the JSON text the agent sent. */
export function saveSessionCheckpoint(
  store: LedgerSource,
  checkpoint: { seq: number; agentId: string; state: string; savedAt: string },
): void {
  queries.saveSessionCheckpoint.sync(
    store,
    checkpoint.seq,
    checkpoint.agentId,
    checkpoint.state,
    checkpoint.savedAt,
  );
}

export function latestSessionCheckpoint(store: LedgerSource, agentId: string): SessionCheckpoint | null {
  return queries.latestSessionCheckpoint.sync(store, agentId);
}
