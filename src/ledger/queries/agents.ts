import type { LedgerPayload } from '../../core/ledger-entries.js';
import type { AgentStatus } from '../../core/lifecycle.js';
import type { TierId } from '../../core/tiers.js';
import { dbOf, type LedgerSource } from '../ledger.js';
import type { LedgerDb } from '../open-ledger-db.js';

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

function prepare(db: LedgerDb) {
  return {
    metrics: db.prepare<[string], MetricsRow>(`${METRICS} WHERE agent_id = ?`),
    allMetrics: db.prepare<[], MetricsRow>(METRICS),
    status: db.prepare<[string], { status: AgentStatus }>(
      'SELECT status FROM agent_metrics WHERE agent_id = ?',
    ),
    credentials: db.prepare<
      [string],
      {
        tier: TierId;
        status: AgentStatus;
        registered_at: string;
        tier_since: string;
        token_hash: string | null;
      }
    >('SELECT tier, status, registered_at, tier_since, token_hash FROM agent_metrics WHERE agent_id = ?'),
    registration: db.prepare<[string], { payload: string }>(
      `SELECT e.payload FROM ledger_entries e JOIN agent_actions a ON a.seq = e.seq
        WHERE a.agent_id = ? AND a.type = 'agent.registered'`,
    ),
    latestRevocation: db.prepare<[string], { payload: string }>(
      "SELECT payload FROM ledger_entries WHERE type = 'revocation.requested' AND agent_id = ? ORDER BY seq DESC LIMIT 1",
    ),
    saveSession: db.prepare<[number, string, string, string]>(
      'INSERT INTO session_checkpoints (seq, agent_id, state, created_at) VALUES (?, ?, ?, ?)',
    ),
    latestSession: db.prepare<[string], { seq: number; state: string; created_at: string }>(
      'SELECT seq, state, created_at FROM session_checkpoints WHERE agent_id = ? ORDER BY seq DESC LIMIT 1',
    ),
  };
}

const cache = new WeakMap<LedgerDb, ReturnType<typeof prepare>>();
const statements = (db: LedgerDb) => cache.get(db) ?? cache.set(db, prepare(db)).get(db)!;

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
  const db = dbOf(store);
  const row = statements(db).metrics.get(agentId);
  return row ? toMetrics(row) : null;
}

export function allAgentMetrics(store: LedgerSource): AgentMetrics[] {
  const db = dbOf(store);
  return statements(db).allMetrics.all().map(toMetrics);
}

/**
 * The agent's status as the ledger records it (null for an unknown agent). Read inside a write
 * transaction, it cannot change before that transaction ends.
 */
export function agentStatus(store: LedgerSource, agentId: string): AgentStatus | null {
  const db = dbOf(store);
  return statements(db).status.get(agentId)?.status ?? null;
}

export function agentCredentials(store: LedgerSource, agentId: string): AgentCredentials | null {
  const db = dbOf(store);
  const row = statements(db).credentials.get(agentId);
  return row
    ? {
        tier: row.tier,
        status: row.status,
        registeredAt: row.registered_at,
        tierSince: row.tier_since,
        tokenHash: row.token_hash,
      }
    : null;
}

/** The owner the agent was registered with (null when it has none, or is unknown). */
export function agentOwner(store: LedgerSource, agentId: string): string | null {
  const db = dbOf(store);
  const row = statements(db).registration.get(agentId);
  return row ? (JSON.parse(row.payload) as LedgerPayload<'agent.registered'>).owner : null;
}

/** The id of the agent's newest revocation, if it was ever revoked. */
export function latestRevocationId(store: LedgerSource, agentId: string): string | null {
  const db = dbOf(store);
  const row = statements(db).latestRevocation.get(agentId);
  return row ? (JSON.parse(row.payload) as LedgerPayload<'revocation.requested'>).revocationId : null;
}

/** Stores the state of `session.checkpoint_saved` entry `seq`; `state` is the JSON text the agent sent. */
export function saveSessionCheckpoint(
  store: LedgerSource,
  checkpoint: { seq: number; agentId: string; state: string; savedAt: string },
): void {
  const db = dbOf(store);
  statements(db).saveSession.run(checkpoint.seq, checkpoint.agentId, checkpoint.state, checkpoint.savedAt);
}

export function latestSessionCheckpoint(store: LedgerSource, agentId: string): SessionCheckpoint | null {
  const db = dbOf(store);
  const row = statements(db).latestSession.get(agentId);
  return row ? { seq: row.seq, savedAt: row.created_at, state: JSON.parse(row.state) } : null;
}
